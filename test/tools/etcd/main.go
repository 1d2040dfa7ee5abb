// Command etcd is etcd's own server, built from the module graph that
// k8s.io/kubernetes already pins, so the local cloud runs the etcd Kubernetes tests with.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
