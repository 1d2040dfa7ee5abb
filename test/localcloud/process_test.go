package localcloud

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestDownStopsEverythingAfterACrash runs stand-in components, crashes one
// with SIGKILL, and checks that Down (from the state file, as the CLI does)
// reports the crash in Status and leaves no process alive.
func TestDownStopsEverythingAfterACrash(t *testing.T) {
	for _, detach := range []bool{false, true} {
		t.Run(map[bool]string{false: "attached", true: "detached"}[detach], func(t *testing.T) {
			dir := t.TempDir()
			st := &state{Ports: map[string]int{}, Processes: map[string]*Process{}}
			for _, name := range componentOrder {
				p, err := startProcess(name, "/bin/sleep", []string{"300"}, filepath.Join(dir, name+".log"), nil, detach)
				if err != nil {
					t.Fatal(err)
				}
				st.Processes[name] = p
				t.Cleanup(func() { _ = syscall.Kill(p.PID, syscall.SIGKILL) })
			}
			if err := st.save(dir); err != nil {
				t.Fatal(err)
			}

			crashed := st.Processes[APIServer]
			if err := syscall.Kill(crashed.PID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return !crashed.Alive() })

			sts, err := Status(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sts {
				if want := s.Name != APIServer; s.Running != want || s.Crashed == want {
					t.Errorf("status of %s: running=%v crashed=%v, want running=%v", s.Name, s.Running, s.Crashed, want)
				}
			}

			if err := Down(dir); err != nil {
				t.Fatalf("Down: %v", err)
			}
			for _, p := range st.Processes {
				if pidRunning(p.PID) {
					t.Errorf("%s (pid %d) still running after Down", p.Name, p.PID)
				}
			}
			sts, _ = Status(dir)
			for _, s := range sts {
				if s.Running || s.Crashed {
					t.Errorf("after Down, %s: running=%v crashed=%v", s.Name, s.Running, s.Crashed)
				}
			}
		})
	}
}

func TestAliveIgnoresRecycledPID(t *testing.T) {
	p, err := startProcess("sleeper", "/bin/sleep", []string{"300"}, filepath.Join(t.TempDir(), "log"), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	// Same pid, another start time: a different process that must not be touched.
	impostor := &Process{Name: "impostor", PID: p.PID, StartTime: p.StartTime + 1}
	if impostor.Alive() {
		t.Fatal("a process with another start time was taken for ours")
	}
	if err := impostor.Stop(time.Second); err != nil || !p.Alive() {
		t.Fatalf("stopping the impostor touched the real process (err=%v, alive=%v)", err, p.Alive())
	}
}

// pidRunning is true for a live, non-zombie process.
func pidRunning(pid int) bool {
	_, state, err := procStat(pid)
	return err == nil && state != 'Z' && state != 'X'
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
