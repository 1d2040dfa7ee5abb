package awsemu

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestEC2NeuronInfo checks the neuron devices against AWS's figures per
// chip: Inferentia 4 NeuronCore-v1 and 8 GiB, Inferentia2 and Trainium 2
// NeuronCore-v2 and 32 GiB, Trainium2 8 NeuronCore-v3 and 96 GiB.
func TestEC2NeuronInfo(t *testing.T) {
	s, c := newEC2(t, Options{})
	ctx := context.Background()
	want := map[string]struct {
		name                  string
		count, cores, version int32
		mib                   int32
	}{
		"inf1.xlarge":    {"Inferentia", 1, 4, 1, 8192},
		"inf1.24xlarge":  {"Inferentia", 16, 4, 1, 8192},
		"inf2.xlarge":    {"Inferentia2", 1, 2, 2, 32768},
		"inf2.48xlarge":  {"Inferentia2", 12, 2, 2, 32768},
		"trn1.2xlarge":   {"Trainium", 1, 2, 2, 32768},
		"trn1n.32xlarge": {"Trainium", 16, 2, 2, 32768},
		"trn2.48xlarge":  {"Trainium2", 16, 8, 3, 98304},
	}
	var names []types.InstanceType
	for n := range want {
		names = append(names, types.InstanceType(n))
	}
	out, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: names})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.InstanceTypes) != len(want) {
		t.Fatalf("got %d types, want %d", len(out.InstanceTypes), len(want))
	}
	for _, it := range out.InstanceTypes {
		w := want[string(it.InstanceType)]
		if it.NeuronInfo == nil || len(it.NeuronInfo.NeuronDevices) != 1 {
			t.Errorf("%s: neuronInfo %+v", it.InstanceType, it.NeuronInfo)
			continue
		}
		d := it.NeuronInfo.NeuronDevices[0]
		if aws.ToString(d.Name) != w.name || aws.ToInt32(d.Count) != w.count || d.CoreInfo == nil || d.MemoryInfo == nil ||
			aws.ToInt32(d.CoreInfo.Count) != w.cores || aws.ToInt32(d.CoreInfo.Version) != w.version ||
			aws.ToInt32(d.MemoryInfo.SizeInMiB) != w.mib || aws.ToInt32(it.NeuronInfo.TotalNeuronDeviceMemoryInMiB) != w.count*w.mib {
			t.Errorf("%s: device %s x%d cores %+v memory %+v total %d, want %+v", it.InstanceType, aws.ToString(d.Name), aws.ToInt32(d.Count),
				d.CoreInfo, d.MemoryInfo, aws.ToInt32(it.NeuronInfo.TotalNeuronDeviceMemoryInMiB), w)
		}
		// Only the first Inferentia is also an inference accelerator.
		if (w.name == "Inferentia") != (it.InferenceAcceleratorInfo != nil) {
			t.Errorf("%s: inferenceAcceleratorInfo %+v", it.InstanceType, it.InferenceAcceleratorInfo)
		}
	}
	// Every AWS accelerator in the catalog is a neuron device we can describe.
	for _, it := range s.catalog.Types {
		if it.AcceleratorMfr == "aws" && it.AcceleratorCount > 0 {
			if _, ok := neuronDevices[it.AcceleratorName]; !ok {
				t.Errorf("%s: accelerator %q has no neuronDevices entry", it.Name, it.AcceleratorName)
			}
		}
	}
}

func TestEC2EBSThroughputFollowsBandwidth(t *testing.T) {
	_, c := newEC2(t, Options{})
	out, err := c.DescribeInstanceTypes(context.Background(), &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"m5.large"}})
	if err != nil {
		t.Fatal(err)
	}
	e := out.InstanceTypes[0].EbsInfo.EbsOptimizedInfo
	// AWS reports m5.large's 4750 Mbps maximum as 593.75 MB/s.
	if aws.ToInt32(e.MaximumBandwidthInMbps) != 4750 || aws.ToFloat64(e.MaximumThroughputInMBps) != 593.75 {
		t.Errorf("ebsOptimizedInfo %+v", e)
	}
}
