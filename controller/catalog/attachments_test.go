package catalog

import (
	"strings"
	"testing"
)

// The expected figures are the EBS CSI driver's getVolumesLimit on a node
// that has just joined (one network interface): its table's limit less
// the root volume and any other mapped volume.
func TestEBSVolumes(t *testing.T) {
	types, err := InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]InstanceType{}
	for _, it := range types {
		if it.MaxEBSAttachments <= 0 {
			t.Errorf("%s has no EBS attachment limit", it.Name)
		}
		byName[it.Name] = it
	}
	for _, tc := range []struct {
		name        string
		dataVolumes int
		want        int
	}{
		{"m5.large", 0, 26},        // Nitro, not in the table: shared 27
		{"m5.large", 2, 24},        // two volumes mapped besides the root
		{"c5d.large", 0, 25},       // its instance store takes one of the shared 27
		{"c7i.large", 0, 31},       // dedicated 32
		{"c7i.48xlarge", 0, 127},   // dedicated 128
		{"g5.48xlarge", 0, 8},      // shared 9: GPUs and instance store take the rest
		{"d3.8xlarge", 0, 2},       // shared 3
		{"d3.8xlarge", 5, 1},       // never below one: zero would read as no limit
		{"t2.micro", 0, 38},        // Xen: 39
		{"m4.large", 1, 37},        // Xen
		{"i8ge.metal-24xl", 0, 38}, // the driver's own correction to dedicated 39
	} {
		it, ok := byName[tc.name]
		if !ok {
			t.Fatalf("%s is not in the catalog", tc.name)
		}
		if got := (Kubelet{DataVolumes: tc.dataVolumes}).EBSVolumes(it); got != tc.want {
			t.Errorf("%s with %d data volumes: EBSVolumes = %d, want %d", tc.name, tc.dataVolumes, got, tc.want)
		}
	}
}

func TestParseAttachmentsRejectsABadCount(t *testing.T) {
	for _, body := range []string{
		"name,max_ebs_attachments,attachment_limit_type\nm5.large,0,shared\n",
		"name,max_ebs_attachments,attachment_limit_type\nm5.large,lots,shared\n",
		"name,max_ebs_attachments,attachment_limit_type\nm5.large\n",
	} {
		if _, err := parseAttachments(strings.NewReader(body)); err == nil {
			t.Errorf("parseAttachments(%q) = nil error", body)
		}
	}
}
