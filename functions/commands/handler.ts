import { createGroupHandler } from '../shared/http/create-handler.js';
import { commandsRoutes } from './routes.js';
import * as commands from './service.js';

export const handler = createGroupHandler(commandsRoutes, {
  getPendingCommands: async ({ params }, ctx) => commands.getPendingCommands(ctx.caller, params.aid, ctx.now),
  reportCommandExecuted: async ({ params, body }, ctx) =>
    commands.reportExecuted(ctx.caller, params.aid, params.cmd, body, ctx.now),
  issueSwitchCommand: async ({ params, body }, ctx) =>
    commands.issueSwitchCommand(ctx.caller, params.aid, body, ctx.now, ctx.idempotencyScope),
  forceSwitch: async ({ params, body, ifMatchVersion }, ctx) =>
    commands.forceSwitch(ctx.caller, params.iid, body, ifMatchVersion, ctx.now, ctx.idempotencyScope),
});
