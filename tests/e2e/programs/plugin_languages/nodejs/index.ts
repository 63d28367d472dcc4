// The motherduck provider plugin from TypeScript, through the generated SDK and the stack's
// default provider (motherduck:apiUrl, motherduck:token in the stack's config): a service
// account, its token (rotated by `trigger`), its Duckling configuration, a ManagedAccount,
// the one-step form (one ServiceAccount holding two tokens and its Duckling configuration, one
// token rotated by `trigger`) and an invoke; the tokens' secrets leave as secret outputs.
import * as pulumi from "@pulumi/pulumi";
import * as motherduck from "@motherduck-pulumi/motherduck";

const config = new pulumi.Config();
const trigger = config.get("trigger") ?? "first";

const account = new motherduck.ServiceAccount("account", { username: "ts_svc" });
const ci = new motherduck.AccessToken("ci", {
    username: account.username,
    name: "ci",
    ttl: 86400,
    rotationTrigger: trigger,
});
new motherduck.InstanceConfig("ducklings", {
    username: account.username,
    readWrite: { instanceSize: "standard" },
    readScaling: { instanceSize: "standard", flockSize: 2 },
});
const team = new motherduck.ManagedAccount("team", {
    username: "ts_team",
    tokens: { deploy: { ttl: 86400 } },
});
const one = new motherduck.ServiceAccount("one", {
    username: "ts_one",
    tokens: {
        loader: { ttl: 86400, rotationTrigger: trigger },
        reader: { tokenType: "read_scaling" },
    },
    readWrite: { instanceSize: "standard" },
    readScaling: { instanceSize: "pulse", flockSize: 1 },
});
const listed = motherduck.getTokensOutput({ username: team.username });

export const username = account.username;
export const tokenId = ci.tokenId;
export const token = ci.token; // secret: the SDK lists it in additionalSecretOutputs
export const teamUsername = team.username;
export const teamTokenIds = team.tokenIds;
export const teamTokens = team.tokens;
export const oneTokenIds = one.tokenIds;
export const oneTokens = one.tokens; // secret: the schema marks the output secret
export const listedTokenIds = listed.tokens.apply(tokens => tokens.map(t => t.id));
