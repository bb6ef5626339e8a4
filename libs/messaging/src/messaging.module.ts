import {
  BeforeApplicationShutdown,
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { AmqpEventBus } from './amqp.event-bus';
import { EVENT_BUS, EventBus } from './event-bus';
import { inProcessEventBus } from './in-process.event-bus';
import { InProcessRpcTransport } from './in-process.transport';
import { RmqRpcTransport } from './rmq-rpc.transport';
import { RpcClient } from './rpc-transport';

export interface MessagingOptions {
  /** RabbitMQ URL; unset selects the in-process bus of the embedded mode. */
  amqpUrl?: string;
  rpcTimeoutMs: number;
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

@Injectable()
class MessagingLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  /** The running event handlers finish while the database and the bus are still open. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.bus !== inProcessEventBus) await this.bus.stopConsuming();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.rpc.close();
    if (this.bus !== inProcessEventBus) await this.bus.close();
  }
}

/** RPC client and event bus for one app, over RabbitMQ or in memory with the same interface. */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        {
          provide: RpcClient,
          useFactory: () =>
            new RpcClient(
              options.amqpUrl ? new RmqRpcTransport(options.amqpUrl) : new InProcessRpcTransport(),
              options.rpcTimeoutMs,
            ),
        },
        {
          provide: EVENT_BUS,
          useFactory: (): EventBus =>
            options.amqpUrl ? new AmqpEventBus(options.amqpUrl) : inProcessEventBus,
        },
        MessagingLifecycle,
      ],
      exports: [RpcClient, EVENT_BUS, MESSAGING_OPTIONS],
    };
  }
}
