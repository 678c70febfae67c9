import { errorResponse } from './json.ts';

/**
 * A route handler with the console's error mapping: whatever it throws is answered by {@link errorResponse} (the
 * error's own status and code, never a stack trace), so each route is one call over lib/.
 *
 * @example
 * export const GET = route(async (req) => Response.json(await sharedQuarantineService().counts()));
 */
export function route(handler: (req: Request) => Promise<Response>): (req: Request) => Promise<Response>;
export function route<C>(
  handler: (req: Request, ctx: C) => Promise<Response>,
): (req: Request, ctx: C) => Promise<Response>;
export function route<C>(
  handler: (req: Request, ctx: C) => Promise<Response>,
): (req: Request, ctx: C) => Promise<Response> {
  return async (req, ctx) => {
    try {
      return await handler(req, ctx);
    } catch (err) {
      return errorResponse(err);
    }
  };
}
