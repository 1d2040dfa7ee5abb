package localcloud

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a component the local cloud started. It is identified by pid
// and by the kernel's start time of that pid, so that a recycled pid is never
// mistaken for ours and never killed.
type Process struct {
	Name      string   `json:"name"`
	PID       int      `json:"pid"`
	StartTime uint64   `json:"startTime"`
	Log       string   `json:"log"`
	Args      []string `json:"args"`
	// Stopped records that `down` stopped it, as opposed to a crash.
	Stopped bool `json:"stopped,omitempty"`

	// exited is closed once a process started by this Go process has been
	// reaped; nil for processes found in a state file.
	exited chan struct{}
}

// startProcess runs bin with args, stdout and stderr appended to logPath.
// Detached processes get their own session and outlive the caller (the CLI's
// `up`); attached ones die with the calling thread's process (tests), so a
// killed test binary leaves nothing behind.
func startProcess(name, bin string, args []string, logPath string, env []string, detach bool) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening log for %s: %w", name, err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "==== %s starting %s %s\n", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))

	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, PID: cmd.Process.Pid, Log: logPath, Args: append([]string{bin}, args...)}
	if st, err := procStartTime(p.PID); err == nil {
		p.StartTime = st
	}
	if detach {
		// The child belongs to init once we exit; releasing avoids holding it.
		_ = cmd.Process.Release()
		return p, nil
	}
	p.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Alive reports whether the process still runs (a zombie does not count).
func (p *Process) Alive() bool {
	if p.exited != nil {
		select {
		case <-p.exited:
			return false
		default:
		}
	}
	st, state, err := procStat(p.PID)
	if err != nil || state == 'Z' || state == 'X' {
		return false
	}
	return p.StartTime == 0 || st == p.StartTime
}

// Stop sends SIGTERM to the process group, then SIGKILL after grace. It is a
// no-op for a process that is already gone.
func (p *Process) Stop(grace time.Duration) error {
	p.Stopped = true
	if !p.Alive() {
		return nil
	}
	_ = syscall.Kill(-p.PID, syscall.SIGTERM)
	_ = syscall.Kill(p.PID, syscall.SIGTERM)
	if p.waitGone(grace) {
		return nil
	}
	_ = syscall.Kill(-p.PID, syscall.SIGKILL)
	_ = syscall.Kill(p.PID, syscall.SIGKILL)
	if p.waitGone(5 * time.Second) {
		return nil
	}
	return fmt.Errorf("%s (pid %d) survived SIGKILL", p.Name, p.PID)
}

func (p *Process) waitGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !p.Alive() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return !p.Alive()
}

// LogTail returns the last n lines of the process's log.
func (p *Process) LogTail(n int) string {
	data, err := os.ReadFile(p.Log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

func procStartTime(pid int) (uint64, error) {
	st, _, err := procStat(pid)
	return st, err
}

// procStat reads the start time (field 22) and state (field 3) of a pid.
func procStat(pid int) (startTime uint64, state byte, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces; fields after it start at the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed /proc stat")
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return 0, 0, errors.New("short /proc stat")
	}
	st, err := strconv.ParseUint(fields[19], 10, 64)
	return st, fields[0][0], err
}
