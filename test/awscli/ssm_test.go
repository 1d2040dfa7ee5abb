package awscli

import "testing"

// SSM speaks JSON 1.1. The emulator publishes the EKS-optimized AMI
// parameters that EC2's images answer to.

func TestSSM(t *testing.T) { runScenarios(t, ssmScenarios) }

const al2023Param = "/aws/service/eks/optimized-ami/1.37/amazon-linux-2023/x86_64/standard/recommended/image_id"

var ssmScenarios = []scenario{
	{name: "public AMI parameters", steps: []step{
		{service: "ssm", op: "GetParameter", args: []string{"--name", al2023Param},
			want: []check{eq("Parameter.Name", al2023Param), eq("Parameter.Type", "String"), eq("Parameter.DataType", "aws:ec2:image"),
				matches("Parameter.Value", `^ami-[0-9a-f]{17}$`), eq("Parameter.ARN", "arn:aws:ssm:us-east-1::parameter"+al2023Param)},
			save: map[string]string{"ami": "Parameter.Value"}},
		{name: "DescribeImages of the parameter's AMI", service: "ec2", op: "DescribeImages", args: []string{"--image-ids", "{ami}"},
			want: []check{count("Images", 1), matches("Images.0.Name", `^amazon-eks-node-al2023-x86_64-standard-1\.37-`)}},
		{service: "ssm", op: "GetParameters", args: []string{"--names", al2023Param, "/aws/service/eks/optimized-ami/0.1/nothing"},
			want: []check{count("Parameters", 1), eq("Parameters.0.Value", "{ami}"), eq("InvalidParameters.0", "/aws/service/eks/optimized-ami/0.1/nothing")}},
		{service: "ssm", op: "GetParametersByPath", args: []string{"--path", "/aws/service/eks/optimized-ami/1.37/amazon-linux-2023", "--recursive"},
			want: []check{atLeast("Parameters", 2), matches("Parameters.*.Name", `^/aws/service/eks/optimized-ami/1\.37/amazon-linux-2023/`),
				some("Parameters.*.Name", al2023Param)}},
		{name: "GetParametersByPath in pages", service: "ssm", op: "GetParametersByPath", args: []string{"--path", "/aws/service/eks/optimized-ami/1.37/amazon-linux-2023",
			"--recursive", "--page-size", "1"},
			want: []check{atLeast("Parameters", 2), some("Parameters.*.Name", al2023Param), absent("NextToken")}},
	}},
	{name: "own parameters", steps: []step{
		{service: "ssm", op: "PutParameter", args: []string{"--name", "/awscli/a", "--value", "one", "--type", "String", "--description", "made by the AWS CLI"},
			want: []check{eq("Version", "1"), eq("Tier", "Standard")}},
		{name: "PutParameter again", service: "ssm", op: "PutParameter", args: []string{"--name", "/awscli/a", "--value", "two", "--type", "String"},
			err: "ParameterAlreadyExists"},
		{name: "PutParameter overwriting", service: "ssm", op: "PutParameter", args: []string{"--name", "/awscli/a", "--value", "two", "--type", "String", "--overwrite"},
			want: []check{eq("Version", "2")}},
		{name: "PutParameter of a list", service: "ssm", op: "PutParameter", args: []string{"--name", "/awscli/b", "--value", "x,y", "--type", "StringList"},
			want: []check{eq("Version", "1")}},
		{name: "GetParametersByPath of our own", service: "ssm", op: "GetParametersByPath", args: []string{"--path", "/awscli"},
			want: []check{count("Parameters", 2), some("Parameters.*.Value", "two"), some("Parameters.*.Type", "StringList")}},
		{service: "ssm", op: "DeleteParameter", args: []string{"--name", "/awscli/a"}},
		{name: "GetParameter after DeleteParameter", service: "ssm", op: "GetParameter", args: []string{"--name", "/awscli/a"}, err: "ParameterNotFound"},
		{service: "ssm", op: "DeleteParameters", args: []string{"--names", "/awscli/b", "/awscli/never"},
			want: []check{eq("DeletedParameters.0", "/awscli/b"), eq("InvalidParameters.0", "/awscli/never")}},
	}},
}
