package awsemu

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// lineWriter hands each log line to lines.
type lineWriter struct {
	mu    sync.Mutex // guards buf
	buf   bytes.Buffer
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		select {
		case w.lines <- line:
		default: // a test that stopped reading must not block the server's logging
		}
	}
}

// TestCloseNamesStuckRequests checks that Close, when a request outlives
// its grace period, says which one it is waiting on, and still waits for it.
func TestCloseNamesStuckRequests(t *testing.T) {
	logs := &lineWriter{lines: make(chan string, 100)}
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.closeGrace, s.closeReport = 10*time.Millisecond, 10*time.Millisecond

	// ListQueues blocks until released; it waits on the world's condition
	// variable, as long polls do, so that Close can take the lock.
	entered, released := make(chan struct{}), false
	op := s.ops["sqs"]["ListQueues"]
	serve := op.handler
	op.handler = func(c *Call) (any, error) {
		close(entered)
		for !released {
			s.changed.Wait()
		}
		return serve(c)
	}
	s.ops["sqs"]["ListQueues"] = op

	answered := make(chan error, 1)
	go func() {
		_, err := sqs.NewFromConfig(s.Config()).ListQueues(context.Background(), &sqs.ListQueuesInput{})
		answered <- err
	}()
	<-entered
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()

	deadline := time.After(30 * time.Second)
	for named := false; !named; {
		select {
		case line := <-logs.lines:
			named = strings.Contains(line, "waiting for requests") && strings.Contains(line, "sqs:ListQueues (POST /)")
		case err := <-closed:
			t.Fatalf("Close returned (%v) while a request was in flight", err)
		case <-deadline:
			t.Fatal("Close never named the request it waits on")
		}
	}

	s.mu.Lock()
	released = true
	s.changed.Broadcast()
	s.mu.Unlock()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-answered; err != nil {
		t.Fatalf("the request Close waited on failed: %v", err)
	}
}
