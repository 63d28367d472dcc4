// The released Go module zip and plugin package from Go, through the stack's default provider
// (motherduck:apiUrl, motherduck:token in the stack's config): a service account and its
// token, whose secret leaves as a secret output.
package main

import (
	"github.com/motherduck-pulumi/motherduck-pulumi/sdk/go/motherduck"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		account, err := motherduck.NewServiceAccount(ctx, "account", &motherduck.ServiceAccountArgs{
			Username: pulumi.String("release_go_svc"),
		})
		if err != nil {
			return err
		}
		ci, err := motherduck.NewAccessToken(ctx, "ci", &motherduck.AccessTokenArgs{
			Username: account.Username,
			Name:     pulumi.String("ci"),
		})
		if err != nil {
			return err
		}
		ctx.Export("tokenId", ci.TokenId)
		ctx.Export("token", ci.Token) // a secret: the SDK lists it in AdditionalSecretOutputs
		return nil
	})
}
