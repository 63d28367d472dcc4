// The released npm tarball and plugin package from TypeScript, through the stack's default
// provider (motherduck:apiUrl, motherduck:token in the stack's config): a service account and
// its token, whose secret leaves as a secret output.
import * as motherduck from "@motherduck-pulumi/motherduck";

const account = new motherduck.ServiceAccount("account", { username: "release_ts_svc" });
const ci = new motherduck.AccessToken("ci", { username: account.username, name: "ci" });

export const tokenId = ci.tokenId;
export const token = ci.token; // secret: the SDK lists it in additionalSecretOutputs
