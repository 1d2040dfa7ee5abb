package awsemu

// registerAll wires every service's operations.
func (s *Server) registerAll() {
	s.registerEC2()
	s.registerIAM()
	s.registerSTS()
	s.registerEKS()
	s.registerSQS()
	s.registerEvents()
	s.registerSSM()
	s.registerPricing()
}
