import { renderHeaders, renderTemplate, sampleContext, WebhookTemplateContext } from './webhook-template';
import { DEFAULT_WEBHOOK_PAYLOAD_TEMPLATE } from '@atrium/contracts';

const context: WebhookTemplateContext = {
  ...sampleContext(),
  userId: 'u1',
  eventType: 'ACTOR.RUN.SUCCEEDED',
  eventData: { actorId: 'a1', actorRunId: 'r1' },
  resource: { id: 'r1', status: 'SUCCEEDED', stats: { n: 2 } },
};

describe('webhook templates', () => {
  it("renders Apify's default template with every variable as JSON", () => {
    expect(renderTemplate(DEFAULT_WEBHOOK_PAYLOAD_TEMPLATE, context, false)).toEqual({
      userId: 'u1',
      createdAt: context.createdAt,
      eventType: 'ACTOR.RUN.SUCCEEDED',
      eventData: { actorId: 'a1', actorRunId: 'r1' },
      resource: { id: 'r1', status: 'SUCCEEDED', stats: { n: 2 } },
    });
  });

  it('reads nested fields; a missing one is null', () => {
    expect(renderTemplate('{"n": {{resource.stats.n}}, "x": {{resource.nothing}}}', context, false)).toEqual({
      n: 2,
      x: null,
    });
  });

  it('interpolates inside strings only when asked, escaping as JSON', () => {
    const template = '{"text": "run {{resource.id}}: {{eventData}}"}';
    expect(renderTemplate(template, context, false)).toEqual({ text: 'run {{resource.id}}: {{eventData}}' });
    expect(renderTemplate(template, context, true)).toEqual({
      text: 'run r1: {"actorId":"a1","actorRunId":"r1"}',
    });
    expect(renderTemplate('{"q": "a \\" {{userId}}"}', context, true)).toEqual({ q: 'a " u1' });
  });

  it('refuses unknown variables and what is not JSON', () => {
    expect(() => renderTemplate('{"a": {{secret}}}', context, false)).toThrow(/unknown variable/);
    expect(() => renderTemplate('{"a": ', context, false)).toThrow(/not valid JSON/);
  });

  it('renders headers as strings, refusing connection headers and line breaks', () => {
    expect(renderHeaders('{"X-Event": "{{eventType}}", "X-N": 3}', context, true)).toEqual({
      'X-Event': 'ACTOR.RUN.SUCCEEDED',
      'X-N': '3',
    });
    expect(() => renderHeaders('{"Host": "x"}', context, false)).toThrow(/may not be set/);
    expect(() => renderHeaders('{"X-A": "a\\r\\nB: c"}', context, false)).toThrow(/line break/);
    expect(() => renderHeaders('["x"]', context, false)).toThrow(/JSON object/);
  });
});
