import { ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { z } from 'zod';
import { BODY_SCHEMA, QUERY_SCHEMA, ValidBody, ValidQuery } from './validated';

const query = z.object({ limit: z.coerce.number().int() });
const body = z.object({ name: z.string() });

class Handlers {
  list(@ValidQuery(query) _q: unknown) {}
  create(@ValidBody(body, { required: true }) _b: unknown) {}
}

interface ParamArg {
  data: unknown;
  pipes: unknown[];
  factory(data: unknown, ctx: ExecutionContext): unknown;
}
const argOf = (method: keyof Handlers): ParamArg =>
  Object.values(Reflect.getMetadata(ROUTE_ARGS_METADATA, Handlers, method) as Record<string, ParamArg>)[0];
const requestWith = (request: object) =>
  ({ switchToHttp: () => ({ getRequest: () => request }) }) as unknown as ExecutionContext;

describe('ValidBody and ValidQuery', () => {
  it('validate the query and the body at the edge: parsed values, or 400 naming the field', () => {
    const list = argOf('list');
    // A zod schema has a `transform` method: passed bare, Nest would take it for a pipe.
    expect(list.pipes).toEqual([]);
    expect(list.factory(list.data, requestWith({ query: { limit: '5', token: 'x' } }))).toEqual({ limit: 5 });
    expect(() => list.factory(list.data, requestWith({ query: { limit: 'many' } }))).toThrow(/limit/);
    // A known parameter in bracket form is refused, naming it (it used to pass as an unknown one).
    expect(() => list.factory(list.data, requestWith({ query: { 'limit[]': '5' } }))).toThrow(
      /"query\.limit" is invalid/,
    );
    expect(list.factory(list.data, requestWith({ query: { limit: '5', 'other[]': 'x' } }))).toEqual({
      limit: 5,
    });

    const create = argOf('create');
    expect(create.factory(create.data, requestWith({ body: { name: 'a' } }))).toEqual({ name: 'a' });
    expect(() => create.factory(create.data, requestWith({}))).toThrow();
    expect(() => create.factory(create.data, requestWith({ body: Buffer.from('x') }))).toThrow(/JSON/);
  });

  it('record the schemas on the handler for the OpenAPI document', () => {
    expect(Reflect.getMetadata(QUERY_SCHEMA, Handlers.prototype.list)).toBe(query);
    expect(Reflect.getMetadata(BODY_SCHEMA, Handlers.prototype.create)).toEqual({
      schema: body,
      options: { required: true },
    });
  });
});
