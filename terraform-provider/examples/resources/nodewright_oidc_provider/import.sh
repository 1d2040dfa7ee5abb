# An OIDC provider is imported by its ARN.
terraform import nodewright_oidc_provider.prod arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
