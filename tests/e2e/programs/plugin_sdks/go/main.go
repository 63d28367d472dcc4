// A Go program on the generated SDK: an explicit provider with the admin token as a secret, a
// service account holding its Duckling configuration (typed), an expiring token that rotates,
// and the token's secret as a stack output.
package main

import (
	"github.com/motherduck-pulumi/motherduck-pulumi/sdk/go/motherduck"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		org, err := motherduck.NewProvider(ctx, "org", &motherduck.ProviderArgs{
			Token:  cfg.RequireSecret("adminToken"),
			ApiUrl: pulumi.StringPtr(cfg.Get("apiUrl")),
		})
		if err != nil {
			return err
		}
		account, err := motherduck.NewServiceAccount(ctx, "etl", &motherduck.ServiceAccountArgs{
			Username: pulumi.String("etl_writer"),
			ReadWrite: &motherduck.ReadWriteArgs{
				InstanceSize: pulumi.String("standard"),
			},
			ReadScaling: &motherduck.ReadScalingArgs{
				InstanceSize: pulumi.String("standard"),
				FlockSize:    pulumi.Int(2),
			},
		}, pulumi.Provider(org), pulumi.Protect(true))
		if err != nil {
			return err
		}
		ci, err := motherduck.NewAccessToken(ctx, "ci", &motherduck.AccessTokenArgs{
			Username:        account.Username,
			Name:            pulumi.String("ci"),
			Ttl:             pulumi.Int(7 * 24 * 3600),
			RotateBefore:    pulumi.Int(24 * 3600),
			KeepPreviousFor: pulumi.Int(3600),
		}, pulumi.Provider(org))
		if err != nil {
			return err
		}
		ctx.Export("instanceSize", account.ReadWrite.InstanceSize())
		ctx.Export("tokenId", ci.TokenId)
		ctx.Export("token", ci.Token) // a secret: the SDK lists it in AdditionalSecretOutputs
		return nil
	})
}
