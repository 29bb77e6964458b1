#!/usr/bin/env node
// The `fhirgate` command (../shared/CONTRACT.md "Command line"): TypeScript sources run through tsx.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
