package awsemu

func (s *Server) registerPricing() {}
