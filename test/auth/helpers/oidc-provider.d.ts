// oidc-provider ships no type declarations; the federation test uses it as a plain provider.
declare module 'oidc-provider' {
  const Provider: new (issuer: string, configuration: unknown) => { callback(): import('node:http').RequestListener };
  export default Provider;
}
