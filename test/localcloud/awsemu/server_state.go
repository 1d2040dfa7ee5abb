package awsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The world's clock and its persistence: the background loops that advance
// time-driven state and save it to the state file.

func (s *Server) startLoops() {
	s.loops.Add(2)
	go func() {
		defer s.loops.Done()
		t := s.clock.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C():
				s.mu.Lock()
				s.tickLocked(s.clock.Now())
				s.mu.Unlock()
			}
		}
	}()
	// Persisting is on real time: even with a fake clock, state reaches disk.
	go func() {
		defer s.loops.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.mu.Lock()
				if err := s.saveLocked(); err != nil {
					s.log.Error("saving state", "error", err)
				}
				s.mu.Unlock()
			}
		}
	}()
}

// Tick advances time-driven state (instance transitions, scheduled
// interruptions, message visibility) to now. The background loop calls it;
// tests with a fake clock may call it directly after stepping the clock.
func (s *Server) Tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked(s.clock.Now())
}

func (s *Server) tickLocked(now time.Time) {
	s.ec2TickLocked(now)
	s.sqsTickLocked(now)
	s.expireSessionsLocked(now)
	s.dirty = true
	s.changed.Broadcast()
}

func (s *Server) loadWorld() (*World, error) {
	w := newWorld(s.opts.World, s.opts.Region)
	if s.opts.StateFile == "" {
		return w, nil
	}
	data, err := os.ReadFile(s.opts.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return w, nil
	}
	if err != nil {
		return nil, fmt.Errorf("awsemu: reading state: %w", err)
	}
	if err := json.Unmarshal(data, w); err != nil {
		return nil, fmt.Errorf("awsemu: parsing state %s: %w (move it away to start afresh)", s.opts.StateFile, err)
	}
	// The control plane may come back on other ports: what it is now wins.
	if e := s.opts.World.ClusterEndpoint; e != "" {
		w.Options.ClusterEndpoint, w.Options.ClusterCA = e, s.opts.World.ClusterCA
	}
	return w, nil
}

func (s *Server) saveLocked() error {
	if s.opts.StateFile == "" || !s.dirty {
		return nil
	}
	data, err := json.Marshal(s.world)
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.opts.StateFile), 0o755); err != nil {
		return err
	}
	tmp := s.opts.StateFile + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	s.dirty = false
	return os.Rename(tmp, s.opts.StateFile)
}
