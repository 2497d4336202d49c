/**
 * The device a sign-in comes from: the `X-Device-Id` header the apps send (a random id kept per
 * install). Remembered for the request by a route preHandler, so the sign-in use case can put its
 * keyed hash in `identity.signed-in.v1` without threading HTTP details through its calls.
 */
import type { FastifyRequest } from 'fastify';
import { requestContext, type RequestContext } from '@verity/kernel';

export const DEVICE_HEADER = 'x-device-id';
const DEVICE_ID = /^[\x21-\x7e]{8,128}$/;
const devices = new WeakMap<RequestContext, string>();

export async function rememberDevice(req: FastifyRequest): Promise<void> {
  const value = req.headers[DEVICE_HEADER];
  const ctx = requestContext.get();
  if (ctx && typeof value === 'string' && DEVICE_ID.test(value)) devices.set(ctx, value);
}

/** The device id of the current request, if it sent a well-formed one. */
export function currentDevice(): string | undefined {
  const ctx = requestContext.get();
  return ctx ? devices.get(ctx) : undefined;
}
