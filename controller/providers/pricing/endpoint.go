package pricing

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
)

// apiRegions are the regions that serve the Price List Query API, as the
// SDK's endpoint table (aws-sdk-go-v2 service/pricing internal/endpoints)
// lists them. Asked anywhere else, the client resolves a host that does not
// exist, and the controller would run on embedded prices without saying why.
var apiRegions = map[string]bool{"us-east-1": true, "eu-central-1": true, "ap-south-1": true, "cn-northwest-1": true}

// APIRegion is the Price List endpoint region that answers for a cluster in
// region: the region itself if it serves the API, else the one of its
// partition or continent, as Karpenter's AWS provider picks it. The answer
// is the same whichever endpoint is asked: the query names the region.
func APIRegion(region string) string {
	switch {
	case apiRegions[region]:
		return region
	case strings.HasPrefix(region, "cn-"):
		return "cn-northwest-1"
	case strings.HasPrefix(region, "ap-"):
		return "ap-south-1"
	case strings.HasPrefix(region, "eu-"):
		return "eu-central-1"
	default:
		return "us-east-1"
	}
}

// NewAPI is a Price List client for a cluster in cfg's region, asking the
// endpoint APIRegion picks.
func NewAPI(cfg aws.Config) *awspricing.Client {
	return awspricing.NewFromConfig(cfg, func(o *awspricing.Options) { o.Region = APIRegion(cfg.Region) })
}
