// A real fhirgate server with the SMART authorization server mounted and bearer verification on
// (test/helpers/server.ts + mountSmartRoutes + verifyBearer), exactly as src/http/app.ts is wired.
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { createAuthRuntime, type AuthRuntime } from '../../../src/auth/runtime.js';
import { verifyBearer } from '../../../src/auth/verify-token.js';
import { mountSmartRoutes } from '../../../src/http/smart-routes.js';
import type { AuthSettings } from '../../../src/auth/settings.js';

export interface SmartServer extends TestServer {
  rt: AuthRuntime;
  tokenUrl: string;
}

export async function startSmartServer(settings: Partial<AuthSettings> = {}): Promise<SmartServer> {
  let rt: AuthRuntime | undefined;
  const s = await startTestServer({
    authOff: false,
    configure: async (deps) => {
      // As src/main.ts wires it: made before the app, started once migrations are applied (they are, here).
      rt = createAuthRuntime({ db: deps.db, config: deps.config, settings: { slowStepMs: 50, ...settings } });
      const runtime = rt;
      await runtime.start();
      return {
        mounts: [(app) => mountSmartRoutes(app, runtime)],
        authenticate: async (authorization, address) => ({ ...(await verifyBearer(authorization, runtime)), address }),
      };
    },
  });
  const runtime = rt!;
  return {
    ...s,
    rt: runtime,
    tokenUrl: `${s.baseUrl}/auth/token`,
    stop: async () => {
      await runtime.close();
      await s.stop();
    },
  };
}
