package awsemu

import "strings"

// ---- DescribeImages ----

type imageXML struct {
	ImageID                string  `xml:"imageId"`
	ImageLocation          string  `xml:"imageLocation"`
	ImageState             string  `xml:"imageState"`
	ImageOwnerID           string  `xml:"imageOwnerId"`
	ImageOwnerAlias        string  `xml:"imageOwnerAlias,omitempty"`
	CreationDate           string  `xml:"creationDate"`
	IsPublic               bool    `xml:"isPublic"`
	Architecture           string  `xml:"architecture"`
	ImageType              string  `xml:"imageType"`
	Name                   string  `xml:"name"`
	Description            string  `xml:"description"`
	RootDeviceType         string  `xml:"rootDeviceType"`
	RootDeviceName         string  `xml:"rootDeviceName"`
	VirtualizationType     string  `xml:"virtualizationType"`
	Hypervisor             string  `xml:"hypervisor"`
	EnaSupport             bool    `xml:"enaSupport"`
	PlatformDetails        string  `xml:"platformDetails"`
	UsageOperation         string  `xml:"usageOperation"`
	BootMode               string  `xml:"bootMode,omitempty"`
	PublicSsmParameterName string  `xml:"publicSsmParameterName,omitempty"`
	TagSet                 *tagSet `xml:"tagSet,omitempty"`
}

func (s *Server) imageByID(id string) *Image {
	for _, im := range s.ec2().Images {
		if im.ID == id {
			return im
		}
	}
	return nil
}

type ec2DescribeImagesInput struct {
	DryRun     bool
	ImageIDs   []string    `query:"ImageId"`
	Owners     []string    `query:"Owner"`
	Filters    []ec2Filter `query:"Filter"`
	MaxResults int
	NextToken  string
}

type ec2DescribeImagesOutput struct {
	Images    items[imageXML] `xml:"imagesSet"`
	NextToken string          `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeImages(c *Call, in *ec2DescribeImagesInput) (*ec2DescribeImagesOutput, error) {
	if in.DryRun {
		return nil, errDryRun()
	}
	list := s.ec2().Images
	if len(in.ImageIDs) > 0 {
		list = nil
		for _, id := range in.ImageIDs {
			im := s.imageByID(id)
			if im == nil {
				if !strings.HasPrefix(id, "ami-") {
					return nil, Errorf(400, "InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
				}
				return nil, Errorf(400, "InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
			}
			list = append(list, im)
		}
	}
	if len(in.Owners) > 0 {
		var keep []*Image
		for _, im := range list {
			for _, o := range in.Owners {
				if o == im.Owner || (o == "self" && im.Owner == AccountID) || (o == "amazon" && im.Owner == EKSImageOwner) {
					keep = append(keep, im)
					break
				}
			}
		}
		list = keep
	}
	views := make([]imageView, len(list))
	for i, im := range list {
		views[i] = imageView{im, imageXMLOf(im)}
	}
	pg, next, err := filterPage("DescribeImages", views, in.Filters, imageFields, func(v imageView) map[string]string { return v.im.Tags }, in.NextToken, in.MaxResults, 1, 1000)
	if err != nil {
		return nil, err
	}
	out := ec2DescribeImagesOutput{NextToken: next}
	for _, v := range pg {
		out.Images.Item = append(out.Images.Item, v.x)
	}
	return &out, nil
}

func imageXMLOf(im *Image) imageXML {
	desc := "EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: " + im.K8sVersion + ")"
	if im.Family == "bottlerocket" {
		desc = "Bottlerocket OS for Kubernetes " + im.K8sVersion
	}
	return imageXML{ImageID: im.ID, ImageLocation: "amazon/" + im.Name, ImageState: "available",
		ImageOwnerID: im.Owner, ImageOwnerAlias: ownerAlias(im), CreationDate: ec2Time(im.CreationDate), IsPublic: im.Owner != AccountID,
		Architecture: im.Architecture, ImageType: "machine", Name: im.Name, Description: desc, RootDeviceType: "ebs",
		RootDeviceName: rootDevice, VirtualizationType: "hvm", Hypervisor: "xen", EnaSupport: true,
		PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances", BootMode: "uefi-preferred",
		PublicSsmParameterName: im.SSMParameter, TagSet: tagsXML(im.Tags)}
}

type imageView struct {
	im *Image
	x  imageXML
}

// noImageValue reads a field no image here has: images are Linux, made by
// AWS rather than copied or created from an instance, carry no product
// code, kernel or ramdisk, no watermark, and no Amazon Inspector scan (the
// account has no Inspector), and none has failed.
func noImageValue(imageView) []string { return nil }

var imageFields = func() filterFields[imageView] {
	f := filterFields[imageView]{
		"architecture":              func(v imageView) []string { return one(v.x.Architecture) },
		"creation-date":             func(v imageView) []string { return one(v.x.CreationDate) },
		"description":               func(v imageView) []string { return one(v.x.Description) },
		"ena-support":               func(v imageView) []string { return boolVal(v.x.EnaSupport) },
		"hypervisor":                func(v imageView) []string { return one(v.x.Hypervisor) },
		"image-id":                  func(v imageView) []string { return one(v.x.ImageID) },
		"image-type":                func(v imageView) []string { return one(v.x.ImageType) },
		"is-public":                 func(v imageView) []string { return boolVal(v.x.IsPublic) },
		"manifest-location":         func(v imageView) []string { return one(v.x.ImageLocation) },
		"name":                      func(v imageView) []string { return one(v.x.Name) },
		"owner-alias":               func(v imageView) []string { return set(v.x.ImageOwnerAlias) },
		"owner-id":                  func(v imageView) []string { return one(v.x.ImageOwnerID) },
		"public-ssm-parameter-name": func(v imageView) []string { return set(v.x.PublicSsmParameterName) },
		"root-device-name":          func(v imageView) []string { return one(v.x.RootDeviceName) },
		"root-device-type":          func(v imageView) []string { return one(v.x.RootDeviceType) },
		"state":                     func(v imageView) []string { return one(v.x.ImageState) },
		"virtualization-type":       func(v imageView) []string { return one(v.x.VirtualizationType) },
	}
	for _, name := range []string{"image-watermark.source-image-creation-time", "image-watermark.source-image-id",
		"image-watermark.source-image-region", "image-watermark.watermark-creation-time", "image-watermark.watermark-key",
		"kernel-id", "platform", "product-code", "product-code.type", "ramdisk-id",
		"scan-result.critical-fix-available-since", "scan-result.finding-scan-date", "scan-result.high-fix-available-since",
		"scan-result.highest-finding-severity-label", "scan-result.informational-fix-available-since",
		"scan-result.low-fix-available-since", "scan-result.medium-fix-available-since",
		"source-image-id", "source-image-region", "source-instance-id", "state-reason-code", "state-reason-message"} {
		f[name] = noImageValue
	}
	return f
}()
