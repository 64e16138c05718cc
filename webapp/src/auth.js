// Sign-in: OpenID Connect, authorization code with PKCE, against the issuer the deployment's
// /config.json names (the city's identity provider in production; the development sign-in of
// `genting up` on the embedded stack). One code path for both. The app holds no signing key:
// it receives tokens and sends them; the services verify them.
import * as oauth from "oauth4webapi";
import { signal } from "@preact/signals";

const STORE = "genting-session";
export const session = signal(load());

function load() {
  try {
    const s = JSON.parse(localStorage.getItem(STORE));
    return s && s.claims ? s : null;
  } catch {
    return null;
  }
}

/** The access token while it is valid (with a minute to spare), else null. */
export function token() {
  const s = session.value;
  return s && s.expires_at - 60000 > Date.now() ? s.access_token : null;
}

function options(issuer) {
  // Plain http only for a development issuer on this machine.
  return issuer.protocol === "http:" && ["127.0.0.1", "localhost"].includes(issuer.hostname) ? { [oauth.allowInsecureRequests]: true } : {};
}

async function server(config) {
  const issuer = new URL(config.issuer);
  const answer = await oauth.discoveryRequest(issuer, options(issuer));
  return [await oauth.processDiscoveryResponse(issuer, answer), options(issuer)];
}

function redirectUri() {
  return new URL("./", location.href).href.split("#")[0].split("?")[0];
}

export async function signIn(config) {
  const [as] = await server(config);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem("genting-pkce", JSON.stringify({ verifier, state }));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("client_id", config.client_id);
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", "openid");
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", state);
  location.assign(url.href);
}

/** Back from the provider with ?code&state: exchange the code for tokens. */
export async function completeSignIn(config) {
  const here = new URL(location.href);
  if (!here.searchParams.has("code") && !here.searchParams.has("error")) return false;
  const pkce = JSON.parse(sessionStorage.getItem("genting-pkce") || "{}");
  sessionStorage.removeItem("genting-pkce");
  const [as, opts] = await server(config);
  const client = { client_id: config.client_id };
  const params = oauth.validateAuthResponse(as, client, here, pkce.state);
  const answer = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), pkce.verifier, opts);
  const result = await oauth.processAuthorizationCodeResponse(as, client, answer, { requireIdToken: false });
  const claims = decode(result.access_token);
  const s = {
    access_token: result.access_token,
    expires_at: Date.now() + (result.expires_in || 3600) * 1000,
    claims: { sub: claims.sub, role: claims.role, kelurahan: claims.kelurahan || null, donor_id: claims.donor_id || null },
  };
  localStorage.setItem(STORE, JSON.stringify(s));
  session.value = s;
  history.replaceState(null, "", redirectUri());
  navigator.storage?.persist?.();
  return true;
}

/** What the token says of the user (role, kelurahan): for the screens only; the services decide. */
function decode(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(part))));
}

export function signOut() {
  localStorage.removeItem(STORE);
  session.value = null;
  navigator.serviceWorker?.controller?.postMessage("forget-lists");
}
