package provisioning

import (
	"context"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestBatcherWindows(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	b := NewBatcher(clk, time.Second, 10*time.Second)
	done := make(chan bool, 1)
	start := func() {
		go func() { done <- b.Wait(context.Background()) }()
	}
	waitTimers := func(n int) {
		deadline := time.Now().Add(5 * time.Second)
		for !clk.HasWaiters() || len(done) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("batcher never armed its timers")
			}
			time.Sleep(time.Millisecond)
		}
		_ = n
	}
	closed := func() bool {
		select {
		case <-done:
			return true
		case <-time.After(50 * time.Millisecond):
			return false
		}
	}

	// Idle: a lone trigger closes after one idle second.
	b.Trigger()
	start()
	waitTimers(2)
	clk.Step(900 * time.Millisecond)
	if closed() {
		t.Fatal("closed before the idle window")
	}
	clk.Step(200 * time.Millisecond)
	if !closed() {
		t.Fatal("idle window did not close the batch")
	}

	// Max: triggers every 0.5 s keep it open until 10 s.
	b.Trigger()
	start()
	waitTimers(2)
	for i := 0; i < 19; i++ {
		clk.Step(500 * time.Millisecond)
		b.Trigger()
		time.Sleep(5 * time.Millisecond)
		if closed() {
			t.Fatalf("closed after %v, before the max window", time.Duration(i+1)*500*time.Millisecond)
		}
	}
	clk.Step(500 * time.Millisecond)
	if !closed() {
		t.Fatal("max window did not close the batch")
	}
}
