package catalog

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// EBS attachment limits: DescribeInstanceTypes gives them (EbsInfo
// MaximumEbsAttachments and AttachmentLimitType); the embedded table is
// that data for offline use, with the sources in data/README.md.

//go:embed data/ebs-attachments.csv
var ebsAttachmentsCSV []byte

const (
	// defaultEBSAttachments is the shared limit of most Nitro types: 28
	// attachments less the primary network interface.
	defaultEBSAttachments = 27
	// xenEBSAttachments is what the EBS CSI driver allows Xen types
	// (limits.GetVolumeLimits), whatever the API says of them.
	xenEBSAttachments = 39
)

type ebsLimit struct {
	max    int
	shared bool
}

var (
	attachmentsOnce sync.Once
	attachmentRows  map[string]ebsLimit
	attachmentsErr  error
)

func loadAttachments() {
	attachmentRows, attachmentsErr = parseAttachments(bytes.NewReader(ebsAttachmentsCSV))
}

func parseAttachments(r io.Reader) (map[string]ebsLimit, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reading data/ebs-attachments.csv: %w", err)
	}
	out := make(map[string]ebsLimit, len(rows))
	for i, rec := range rows[1:] {
		if len(rec) < 3 {
			return nil, fmt.Errorf("data/ebs-attachments.csv line %d: want name,max_ebs_attachments,attachment_limit_type", i+2)
		}
		n, err := strconv.Atoi(rec[1])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("data/ebs-attachments.csv line %d (%s): max_ebs_attachments %q is not a positive count", i+2, rec[0], rec[1])
		}
		out[rec[0]] = ebsLimit{max: n, shared: rec[2] == "shared"}
	}
	return out, nil
}

// FillEBSAttachments sets the type's EBS attachment limit from the table
// where nothing else gave one (DescribeInstanceTypes does on AWS); a type
// the table lacks gets the Nitro default.
func (it *InstanceType) FillEBSAttachments() error {
	if it.MaxEBSAttachments > 0 {
		return nil
	}
	attachmentsOnce.Do(loadAttachments)
	if attachmentsErr != nil {
		return attachmentsErr
	}
	l, ok := attachmentRows[it.Name]
	if !ok {
		l = ebsLimit{max: defaultEBSAttachments, shared: true}
	}
	it.MaxEBSAttachments, it.EBSAttachmentsShared = l.max, l.shared
	return nil
}

// EBSVolumes is how many EBS volumes a new node of the type can attach for
// pods, as the EBS CSI driver reports it in the node's CSINode and
// kube-scheduler enforces it (getVolumesLimit in aws-ebs-csi-driver
// pkg/driver/node.go): the type's limit less the node's root volume and
// its other mapped volumes. On a shared limit the driver also takes off
// each network interface past the first, and a node starts with one.
// Never below one, since the scheduler reads zero as no limit.
func (k Kubelet) EBSVolumes(it InstanceType) int {
	n := it.MaxEBSAttachments
	switch {
	case it.Hypervisor == "xen":
		n = xenEBSAttachments
	case n <= 0:
		n = defaultEBSAttachments
	}
	return max(1, n-1-k.DataVolumes)
}
