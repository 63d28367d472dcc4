// A TypeScript program on the generated SDK (@motherduck-pulumi/motherduck): an explicit
// provider with the admin token as a secret, a service account holding its Duckling
// configuration (typed), an expiring token that rotates, and the token's secret as a stack
// output (a secret: the SDK marks it so).
import * as pulumi from "@pulumi/pulumi";
import * as motherduck from "@motherduck-pulumi/motherduck";

const config = new pulumi.Config();
const org = new motherduck.Provider("org", {
    token: config.requireSecret("adminToken"),
    apiUrl: config.get("apiUrl"),
});

const account = new motherduck.ServiceAccount("etl", {
    username: "etl_writer",
    readWrite: { instanceSize: "standard" },
    readScaling: { instanceSize: "standard", flockSize: 2 },
}, { provider: org, protect: true });
export const instanceSize: pulumi.Output<string | undefined> =
    account.readWrite.apply(rw => rw?.instanceSize);

const ci = new motherduck.AccessToken("ci", {
    username: account.username,
    name: "ci",
    ttl: 7 * 24 * 3600,
    rotateBefore: 24 * 3600,
    keepPreviousFor: 3600,
}, { provider: org });

export const tokenId: pulumi.Output<string> = ci.tokenId;
export const token: pulumi.Output<string | undefined> = ci.token;  // secret: the SDK lists it in additionalSecretOutputs
