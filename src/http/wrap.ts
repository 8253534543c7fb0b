/** Lets async route handlers throw: the rejection goes to the central error handler. */
import type { Request, Response, NextFunction, RequestHandler } from 'express';

export const wrap = (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => { fn(req, res).catch(next); };
