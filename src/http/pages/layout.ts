// Shared shell of the sign-in pages: plain HTML that works without JavaScript, every dynamic value
// escaped, no external resources (a strict Content-Security-Policy is sent with each page).
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.6rem 0}input[type=text],input[type=password],select{width:100%;padding:.4rem}
button{padding:.5rem 1.2rem;margin:.8rem .5rem 0 0}.err{color:#a00}.scope{font-family:monospace}
fieldset{border:1px solid #ccc;margin:.6rem 0}ul{padding-left:1.2rem}`;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · fhirgate</title><style>${STYLE}</style></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>`;
}

export function hidden(name: string, value: string | undefined): string {
  return value === undefined ? '' : `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`;
}

export function message(text: string | undefined): string {
  return text ? `<p class="err" role="alert">${esc(text)}</p>` : '';
}

/** The policy sent with every page: no script at all, forms only to this server. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'";
