package v1

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// NillableDuration is a Go duration string such as "720h" or "30m", or
// "Never" to turn the behaviour off. Only h, m and s units are accepted, so
// values read the same in every tool.
//
// +kubebuilder:validation:Type=string
// +kubebuilder:validation:Pattern=`^(([0-9]+(s|m|h))+|Never)$`
type NillableDuration string

// Never disables a NillableDuration.
const Never NillableDuration = "Never"

// Duration returns the duration and true, or false when it is Never, empty
// or (which validation prevents) unparsable.
func (d NillableDuration) Duration() (time.Duration, bool) {
	if d == "" || d == Never {
		return 0, false
	}
	v, err := time.ParseDuration(string(d))
	if err != nil {
		return 0, false
	}
	return v, true
}

// NodeSelectorRequirementWithMinValues is a node selector requirement that
// can also demand flexibility: with minValues, at least that many distinct
// values of the key must remain possible when a node is launched (for
// example, at least five instance types for spot).
//
// +kubebuilder:validation:XValidation:rule=`!(self.operator in ['In', 'NotIn']) || (has(self.values) && self.values.size() > 0)`,message="operators In and NotIn need at least one value"
// +kubebuilder:validation:XValidation:rule=`!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || self.values.size() == 0`,message="operators Exists and DoesNotExist take no values"
// +kubebuilder:validation:XValidation:rule=`!(self.operator in ['Gt', 'Lt']) || (has(self.values) && self.values.size() == 1 && self.values[0].matches('^-?[0-9]+$'))`,message="operators Gt and Lt take exactly one integer value"
// +kubebuilder:validation:XValidation:rule=`self.operator != 'In' || !has(self.minValues) || (has(self.values) && self.values.size() >= self.minValues)`,message="minValues must not exceed the number of values of an In requirement"
type NodeSelectorRequirementWithMinValues struct {
	// Key is a node label key.
	// +kubebuilder:validation:MaxLength=316
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
	// +required
	Key string `json:"key"`
	// Operator relates the key to the values.
	// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist;Gt;Lt
	// +required
	Operator corev1.NodeSelectorOperator `json:"operator"`
	// Values for In and NotIn (one or more), Gt and Lt (exactly one integer).
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=atomic
	// +optional
	Values []string `json:"values,omitempty"`
	// MinValues is the least number of distinct values of Key that must stay
	// possible for a launch.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	// +optional
	MinValues *int `json:"minValues,omitempty"`
}

// NodeClassReference points at the cloud-specific node class.
type NodeClassReference struct {
	// Group of the node class, nodewright.dev for EC2NodeClass.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Group string `json:"group"`
	// Kind of the node class, EC2NodeClass.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Kind string `json:"kind"`
	// Name of the node class.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// Condition types shared by every resource.
const (
	// ConditionTypeReady summarises the other conditions.
	ConditionTypeReady = "Ready"
)
