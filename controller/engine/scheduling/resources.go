package scheduling

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nodewright/nodewright/controller/utils/resources"
)

// resourceSpace interns resource names into vector indices, so that fit
// checks on the hot path are integer comparisons. cpu is in millicores,
// everything else in base units.
type resourceSpace struct {
	names []corev1.ResourceName
	index map[corev1.ResourceName]int
}

const (
	resCPU = iota
	resMemory
	resPods
)

func newResourceSpace() *resourceSpace {
	s := &resourceSpace{index: map[corev1.ResourceName]int{}}
	for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods} {
		s.add(n)
	}
	return s
}

func (s *resourceSpace) add(n corev1.ResourceName) {
	if _, ok := s.index[n]; !ok {
		s.index[n] = len(s.names)
		s.names = append(s.names, n)
	}
}

// unlimited stands for a limit a node does not publish; far below
// overflow when summed.
const unlimited = int64(1) << 50

// capacity is vector for a node's allocatable, where an attach limit the
// node does not list is no limit (resources.Fits says why).
func (s *resourceSpace) capacity(list corev1.ResourceList) vec {
	v := s.vector(list)
	for i, n := range s.names {
		if _, ok := list[n]; !ok && resources.IsAttachLimit(n) {
			v[i] = unlimited
		}
	}
	return v
}

// vec is a resource vector in a resourceSpace.
type vec []int64

func (s *resourceSpace) vector(list corev1.ResourceList) vec {
	v := make(vec, len(s.names))
	// The space holds a handful of names; looking each up beats ranging
	// over the list and hashing every name twice.
	for i, n := range s.names {
		q, ok := list[n]
		if !ok {
			continue
		}
		if n == corev1.ResourceCPU {
			v[i] = q.MilliValue()
		} else {
			v[i] = q.Value()
		}
	}
	return v
}

func (s *resourceSpace) list(v vec) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i, n := range s.names {
		if v[i] == 0 {
			continue
		}
		if n == corev1.ResourceCPU {
			out[n] = *resource.NewMilliQuantity(v[i], resource.DecimalSI)
		} else if n == corev1.ResourceMemory || strings.Contains(string(n), "storage") {
			out[n] = *resource.NewQuantity(v[i], resource.BinarySI)
		} else {
			out[n] = *resource.NewQuantity(v[i], resource.DecimalSI)
		}
	}
	return out
}

// describe renders the non-zero requests, e.g. "cpu=1500m, memory=2Gi, nvidia.com/gpu=2".
func (s *resourceSpace) describe(v vec) string {
	l := s.list(v)
	keys := make([]string, 0, len(l))
	for n := range l {
		if n == corev1.ResourcePods {
			continue
		}
		keys = append(keys, string(n))
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		q := l[corev1.ResourceName(k)]
		parts = append(parts, fmt.Sprintf("%s=%s", k, q.String()))
	}
	return strings.Join(parts, ", ")
}

func (v vec) add(o vec) vec {
	out := make(vec, len(v))
	for i := range v {
		out[i] = v[i] + o[i]
	}
	return out
}

func (v vec) addInPlace(o vec) {
	for i := range v {
		v[i] += o[i]
	}
}

func (v vec) sub(o vec) vec {
	out := make(vec, len(v))
	for i := range v {
		out[i] = v[i] - o[i]
	}
	return out
}

// fitsWith reports whether used+req fits within alloc.
func fitsWith(used, req, alloc vec) bool {
	for i := range req {
		if used[i]+req[i] > alloc[i] {
			return false
		}
	}
	return true
}

func resourceOne() *resource.Quantity { return resource.NewQuantity(1, resource.DecimalSI) }
