package awsemu

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Close's timing: how long it lets requests finish before it starts naming
// them, and how often it names them again. Tests shorten them.
const (
	closeGrace  = 5 * time.Second
	closeReport = 5 * time.Second
)

// inflight is the requests being served, so that Close can say what it is
// waiting on, as httptest.Server.Close does.
type inflight struct {
	wg sync.WaitGroup
	// mu guards reqs and next.
	mu   sync.Mutex
	reqs map[uint64]*inflightRequest
	next uint64
}

type inflightRequest struct {
	method, url string
	start       time.Time
	// action is "service:Action" once the request is routed (under inflight.mu).
	action string
}

// begin records a request; end, its result, forgets it.
func (f *inflight) begin(method, url string) (id uint64) {
	f.wg.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reqs == nil {
		f.reqs = map[uint64]*inflightRequest{}
	}
	f.next++
	f.reqs[f.next] = &inflightRequest{method: method, url: url, start: time.Now()}
	return f.next
}

func (f *inflight) routed(id uint64, service, action string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.reqs[id]; r != nil {
		r.action = service + ":" + action
	}
}

func (f *inflight) end(id uint64) {
	f.mu.Lock()
	delete(f.reqs, id)
	f.mu.Unlock()
	f.wg.Done()
}

// names describes the requests in flight, oldest first.
func (f *inflight) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	reqs := make([]*inflightRequest, 0, len(f.reqs))
	for _, r := range f.reqs {
		reqs = append(reqs, r)
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].start.Before(reqs[j].start) })
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		name := r.method + " " + r.url
		if r.action != "" {
			name = r.action + " (" + name + ")"
		}
		out = append(out, fmt.Sprintf("%s, for %s", name, time.Since(r.start).Round(time.Millisecond)))
	}
	return out
}

// shutdown stops the HTTP server and waits for the requests in flight,
// without limit as before; past grace, and every report after, it logs
// which requests it is still waiting on.
func (s *Server) shutdown(grace, report time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	done := make(chan struct{})
	go func() {
		s.inflight.wg.Wait()
		close(done)
	}()
	waited := grace
	for {
		if names := s.inflight.names(); len(names) > 0 {
			s.log.Warn(fmt.Sprintf("awsemu: Close blocked after %s, waiting for requests: %s", waited, strings.Join(names, "; ")))
		}
		select {
		case <-done:
			return nil
		case <-time.After(report):
			waited += report
		}
	}
}
