package awsemu

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"
)

// adminPrefix is the emulator's own API: fault injection and inspection for
// the localcloud CLI and tests. AWS never serves this path.
const adminPrefix = "/_localcloud/"

type adminHandler func(s *Server, body []byte) (any, error)

// adminRoutes maps "METHOD name" to handlers that run under the world lock.
// Services add theirs from their register functions.
var adminRoutes = map[string]adminHandler{
	"GET world":              func(s *Server, _ []byte) (any, error) { return s.world, nil },
	"GET faults":             func(s *Server, _ []byte) (any, error) { return s.faults, nil },
	"POST faults/api-errors": adminAPIErrors,
	"POST faults/capacity":   adminCapacity,
	"POST faults/never-join": adminNeverJoin,
	"POST faults/clear":      func(s *Server, _ []byte) (any, error) { s.faults = newFaults(); return s.faults, nil },
	"GET calls":              func(s *Server, _ []byte) (any, error) { return maps.Clone(s.calls), nil },
	"POST calls/reset":       func(s *Server, _ []byte) (any, error) { clear(s.calls); return s.calls, nil },
	"GET health":             func(s *Server, _ []byte) (any, error) { return map[string]string{"status": "ok"}, nil },
}

// APIErrorsRequest injects an error rate into one action ("ec2:CreateFleet")
// or a whole service ("ec2:*"). Rate 0 removes it.
type APIErrorsRequest struct {
	Target string `json:"target"`
	APIFault
}

func adminAPIErrors(s *Server, body []byte) (any, error) {
	var req APIErrorsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	if !strings.Contains(req.Target, ":") {
		return nil, fmt.Errorf("target %q must be service:Action or service:*, e.g. ec2:CreateFleet", req.Target)
	}
	if req.Rate < 0 || req.Rate > 1 {
		return nil, fmt.Errorf("rate %v must be between 0 and 1", req.Rate)
	}
	if req.Rate == 0 {
		delete(s.faults.APIErrors, req.Target)
	} else {
		s.faults.APIErrors[req.Target] = req.APIFault
	}
	return s.faults, nil
}

// CapacityRequest marks a pool out of capacity, or back in with Available.
type CapacityRequest struct {
	InstanceType string `json:"instanceType"`
	Zone         string `json:"zone"`
	CapacityType string `json:"capacityType"`
	Available    bool   `json:"available"`
}

func adminCapacity(s *Server, body []byte) (any, error) {
	var req CapacityRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	if req.InstanceType == "" || req.Zone == "" || (req.CapacityType != "spot" && req.CapacityType != "on-demand") {
		return nil, fmt.Errorf("instanceType, zone and capacityType (spot or on-demand) are required")
	}
	key := PoolKey(req.InstanceType, req.Zone, req.CapacityType)
	if req.Available {
		delete(s.faults.ICE, key)
	} else {
		s.faults.ICE[key] = true
	}
	return s.faults, nil
}

func adminNeverJoin(s *Server, body []byte) (any, error) {
	var req struct {
		Count int `json:"count"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	s.faults.NeverJoin = req.Count
	return s.faults, nil
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, adminPrefix)
	h, ok := adminRoutes[r.Method+" "+name]
	if !ok {
		http.Error(w, fmt.Sprintf("unknown admin route %s %s", r.Method, r.URL.Path), http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	out, err := h(s, body)
	var data []byte
	if err == nil {
		data, err = json.Marshal(out)
	}
	s.dirty = true
	s.changed.Broadcast()
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

// waitLocked releases the world lock until something changes or the
// deadline passes, for long polls such as SQS ReceiveMessage.
func (s *Server) waitLocked(deadline time.Time) {
	d := deadline.Sub(s.clock.Now())
	if d <= 0 {
		return
	}
	t := time.AfterFunc(d, func() {
		s.mu.Lock()
		s.changed.Broadcast()
		s.mu.Unlock()
	})
	defer t.Stop()
	s.changed.Wait()
}
