// Sign-in pages (../shared/CONTRACT.md "Sign-in pages"): fields `username`, `password`, then `otp`
// for users with TOTP; optionally a second form that hands sign-in to the hospital's SSO.
import { esc, hidden, message, page } from './layout.js';

export function loginPage(o: { req: string; error?: string; ssoLabel?: string; appName?: string }): string {
  const sso = o.ssoLabel
    ? `<form method="post" action="/auth/sso/start">${hidden('req', o.req)}<button type="submit">${esc(o.ssoLabel)}</button></form>`
    : '';
  return page('Sign in', `${o.appName ? `<p>Sign in to let <b>${esc(o.appName)}</b> use your data.</p>` : ''}
${message(o.error)}
<form method="post" action="/auth/login">
${hidden('req', o.req)}
<label>Username <input type="text" name="username" autocomplete="username" required autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
${sso}`);
}

export function otpPage(o: { req: string; error?: string }): string {
  return page('One-time code', `${message(o.error)}
<p>Enter the 6-digit code from your authenticator app.</p>
<form method="post" action="/auth/otp">
${hidden('req', o.req)}
<label>Code <input type="text" name="otp" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required autofocus></label>
<button type="submit">Continue</button>
</form>`);
}

export function errorPage(text: string): string {
  return page('Cannot continue', `<p class="err" role="alert">${esc(text)}</p><p>Close this window and start again from the application.</p>`);
}
