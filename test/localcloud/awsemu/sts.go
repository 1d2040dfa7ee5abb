package awsemu

func (s *Server) registerSTS() {}
