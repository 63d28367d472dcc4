// The motherduck provider plugin from Go, through the generated SDK and the stack's default
// provider (motherduck:apiUrl, motherduck:token in the stack's config): a service account, its
// token (rotated by `trigger`), its Duckling configuration, a ManagedAccount, the one-step form
// (one ServiceAccount holding two tokens and its Duckling configuration, one token rotated by
// `trigger`) and an invoke; the tokens' secrets leave as secret outputs.
package main

import (
	"github.com/motherduck-pulumi/motherduck-pulumi/sdk/go/motherduck"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		trigger := config.Get(ctx, "trigger")
		if trigger == "" {
			trigger = "first"
		}
		account, err := motherduck.NewServiceAccount(ctx, "account", &motherduck.ServiceAccountArgs{
			Username: pulumi.String("go_svc"),
		})
		if err != nil {
			return err
		}
		ci, err := motherduck.NewAccessToken(ctx, "ci", &motherduck.AccessTokenArgs{
			Username:        account.Username,
			Name:            pulumi.String("ci"),
			Ttl:             pulumi.Int(86400),
			RotationTrigger: pulumi.String(trigger),
		})
		if err != nil {
			return err
		}
		_, err = motherduck.NewInstanceConfig(ctx, "ducklings", &motherduck.InstanceConfigArgs{
			Username:    account.Username,
			ReadWrite:   &motherduck.ReadWriteArgs{InstanceSize: pulumi.String("standard")},
			ReadScaling: &motherduck.ReadScalingArgs{InstanceSize: pulumi.String("standard"), FlockSize: pulumi.Int(2)},
		})
		if err != nil {
			return err
		}
		team, err := motherduck.NewManagedAccount(ctx, "team", &motherduck.ManagedAccountArgs{
			Username: pulumi.String("go_team"),
			Tokens:   motherduck.TokenSpecMap{"deploy": &motherduck.TokenSpecArgs{Ttl: pulumi.Int(86400)}},
		})
		if err != nil {
			return err
		}
		one, err := motherduck.NewServiceAccount(ctx, "one", &motherduck.ServiceAccountArgs{
			Username: pulumi.String("go_one"),
			Tokens: motherduck.TokenMap{
				"loader": &motherduck.TokenArgs{Ttl: pulumi.Int(86400), RotationTrigger: pulumi.String(trigger)},
				"reader": &motherduck.TokenArgs{TokenType: pulumi.String("read_scaling")},
			},
			ReadWrite:   &motherduck.ReadWriteArgs{InstanceSize: pulumi.String("standard")},
			ReadScaling: &motherduck.ReadScalingArgs{InstanceSize: pulumi.String("pulse"), FlockSize: pulumi.Int(1)},
		})
		if err != nil {
			return err
		}
		listed := motherduck.GetTokensOutput(ctx, motherduck.GetTokensOutputArgs{Username: team.Username})

		ctx.Export("username", account.Username)
		ctx.Export("tokenId", ci.TokenId)
		ctx.Export("token", ci.Token) // a secret: the SDK lists it in AdditionalSecretOutputs
		ctx.Export("teamUsername", team.Username)
		ctx.Export("teamTokenIds", team.TokenIds)
		ctx.Export("teamTokens", team.Tokens)
		ctx.Export("oneTokenIds", one.TokenIds)
		ctx.Export("oneTokens", one.Tokens) // a secret: the schema marks the output secret
		ctx.Export("listedTokenIds", listed.Tokens().ApplyT(func(tokens []motherduck.TokenMetadata) []string {
			ids := make([]string, 0, len(tokens))
			for _, t := range tokens {
				ids = append(ids, t.Id)
			}
			return ids
		}))
		return nil
	})
}
