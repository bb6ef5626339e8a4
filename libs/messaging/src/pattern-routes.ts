/**
 * Nest derives a message's route from its pattern by trying `JSON.parse` on it first: for
 * Atrium's patterns (plain strings) that throws, on every request — ~2 % of a service's CPU. A
 * server keeps the route of each pattern that has a handler (handlers are few and fixed); both
 * transports' servers (RMQ and in-process) override `getRouteFromPattern` with this.
 */
export class PatternRoutes {
  private readonly routes = new Map<string, string>();

  constructor(
    private readonly derive: (pattern: string) => string,
    private readonly handles: (route: string) => boolean,
  ) {}

  route(pattern: string): string {
    let route = this.routes.get(pattern);
    if (route === undefined) {
      route = this.derive(pattern);
      if (this.handles(route)) this.routes.set(pattern, route);
    }
    return route;
  }
}
