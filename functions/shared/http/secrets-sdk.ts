/**
 * The Secrets Manager SDK pieces auth.ts uses, in a module of their own: imported on first use, and
 * re-exported by name so the bundler keeps only these (a dynamic import of the package itself
 * would bring all of it).
 */
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
