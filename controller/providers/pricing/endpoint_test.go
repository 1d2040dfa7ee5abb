package pricing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
)

func TestAPIRegion(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":      "us-east-1",
		"us-west-2":      "us-east-1",
		"ca-central-1":   "us-east-1",
		"sa-east-1":      "us-east-1",
		"me-south-1":     "us-east-1",
		"eu-west-1":      "eu-central-1",
		"eu-central-1":   "eu-central-1",
		"ap-south-1":     "ap-south-1",
		"ap-northeast-1": "ap-south-1",
		"cn-north-1":     "cn-northwest-1",
		"cn-northwest-1": "cn-northwest-1",
	} {
		if got := APIRegion(region); got != want {
			t.Errorf("APIRegion(%q) = %q, want %q", region, got, want)
		}
	}
}

// The client NewAPI builds signs for, and so is routed to, the Price List
// region of the cluster's region, not the cluster's own.
func TestNewAPISignsForThePriceListRegion(t *testing.T) {
	scopes := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case scopes <- r.Header.Get("Authorization"):
		default:
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"PriceList":[],"FormatVersion":"aws_v1"}`))
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	if _, err := NewAPI(cfg).GetProducts(context.Background(), &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2")}); err != nil {
		t.Fatal(err)
	}
	if auth := <-scopes; !strings.Contains(auth, "/eu-central-1/pricing/aws4_request") {
		t.Errorf("request signed as %q, want the eu-central-1 pricing scope", auth)
	}
}
