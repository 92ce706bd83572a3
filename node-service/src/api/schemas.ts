/** zod schemas for the inputs many routes share (addresses, paging, the application a read is for). */
import { z } from "zod";
import type { Address } from "../domain/entities";

export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
  .transform((s) => s.toLowerCase() as Address);

export const EnterpriseParams = z.object({ address: address.describe("The enterprise's account address") });

export const applicationId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,100}$/, "must be 1-100 letters, digits, '_' or '-'")
  .describe("The loan application this read is for; recorded in the enterprise's access log");

export const Paging = {
  limit: z.coerce.number().int().min(1).max(1000).default(200).describe("Items per page (newest first)"),
  offset: z.coerce.number().int().min(0).default(0).describe("Items to skip"),
};
