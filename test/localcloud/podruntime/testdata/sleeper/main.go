// Command sleeper stands in for a container's binary in podruntime tests: it
// records its pid, arguments and environment as JSON in $SLEEPER_OUT, then
// exits with $SLEEPER_EXIT if set, or sleeps until SIGTERM.
package main

import (
	"encoding/json"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	// Register before reporting, so a SIGTERM right after the report is caught.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	report := map[string]any{"pid": os.Getpid(), "args": os.Args, "env": os.Environ()}
	if out := os.Getenv("SLEEPER_OUT"); out != "" {
		data, _ := json.Marshal(report)
		tmp := out + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			panic(err)
		}
		if err := os.Rename(tmp, out); err != nil {
			panic(err)
		}
	}
	if code := os.Getenv("SLEEPER_EXIT"); code != "" {
		n, _ := strconv.Atoi(code)
		os.Exit(n)
	}
	<-sigs
	os.Exit(0)
}
