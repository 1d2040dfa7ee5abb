package provisioning

import (
	"context"
	"fmt"
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
	// waitTimers waits until Wait has armed n timers (and consumed every
	// trigger), so a Step cannot land before a timer exists.
	waitTimers := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for len(b.trigger) > 0 || clk.Waiters() != n {
			if len(done) > 0 {
				return // closed: the caller's check says so
			}
			if time.Now().After(deadline) {
				t.Fatalf("batcher never armed its %d timers (%d waiting, %d triggers pending)", n, clk.Waiters(), len(b.trigger))
			}
			time.Sleep(time.Millisecond)
		}
	}
	// closedWithin reports whether the batch closes within d.
	closedWithin := func(d time.Duration) bool {
		select {
		case <-done:
			return true
		case <-time.After(d):
			return false
		}
	}
	const closes = 30 * time.Second

	// Idle: a lone trigger closes after one idle second.
	b.Trigger("pod")
	start()
	waitTimers(2)
	// Step fires every due timer before it returns, and a fired timer
	// leaves the clock's waiters: both still armed means still open.
	clk.Step(900 * time.Millisecond)
	if clk.Waiters() != 2 || len(done) > 0 {
		t.Fatal("closed before the idle window")
	}
	clk.Step(200 * time.Millisecond)
	if !closedWithin(closes) {
		t.Fatal("idle window did not close the batch")
	}

	// Max: triggers every 0.5 s keep it open until 10 s.
	b.Trigger("pod")
	start()
	waitTimers(2)
	for i := 0; i < 19; i++ {
		clk.Step(500 * time.Millisecond)
		b.Trigger(fmt.Sprintf("pod-%d", i))
		// waitTimers returns only with both timers armed or the batch
		// closed, so a timer the Step fired shows as a result here.
		waitTimers(2)
		if len(done) > 0 {
			t.Fatalf("closed after %v, before the max window", time.Duration(i+1)*500*time.Millisecond)
		}
	}
	clk.Step(500 * time.Millisecond)
	if !closedWithin(closes) {
		t.Fatal("max window did not close the batch")
	}

	// The same pod again is no news: the window closes one idle second
	// after the pod's first trigger. The next window takes it again.
	for range 2 {
		b.Trigger("pod")
		start()
		waitTimers(2)
		clk.Step(600 * time.Millisecond)
		b.Trigger("pod")
		waitTimers(2)
		clk.Step(500 * time.Millisecond)
		if !closedWithin(closes) {
			t.Fatal("a pod triggering again extended the idle window")
		}
	}
}
