// One corpus run of the Vercel AI SDK (scripts/build_corpus.py --runs --only vercel-ai).
//
// The parent sets CORPUS_FAKE_BASE (the loopback fake providers), OTEL_EXPORTER_OTLP_ENDPOINT
// (the loopback OTLP sink) and CORPUS_VERCEL_TELEMETRY: "semconv" registers @ai-sdk/otel's
// OpenTelemetry integration (GenAI semconv spans), "legacy" its LegacyOpenTelemetry (the ai.*
// spans of AI SDK 4-6); CORPUS_VERCEL_API picks chat completions or the Responses API. The
// OTLP/HTTP exporters send JSON.
import { createOpenAI } from '@ai-sdk/openai';
import { LegacyOpenTelemetry, OpenTelemetry } from '@ai-sdk/otel';
import { trace } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { generateText, registerTelemetry, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';

const mode = process.env.CORPUS_VERCEL_TELEMETRY ?? 'semconv';
// "chat" (chat completions, openai.chat) or "responses" (openai(), the provider's default)
const api = process.env.CORPUS_VERCEL_API ?? 'chat';
const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME ?? 'corpus-vercel-ai',
  traceExporter: new OTLPTraceExporter(),
  metricReader: new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter(),
    exportIntervalMillis: 600_000,
  }),
  logRecordProcessors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })],
  instrumentations: [],
  resourceDetectors: [], // no host, process or OS details in the corpus
});
sdk.start();
registerTelemetry(mode === 'legacy' ? new LegacyOpenTelemetry() : new OpenTelemetry({ usage: true }));

const openai = createOpenAI({
  baseURL: `${process.env.CORPUS_FAKE_BASE}/openai/v1`,
  apiKey: 'sk-corpus-fake',
});
const model = (id) => (api === 'responses' ? openai(id) : openai.chat(id));
const telemetry = { isEnabled: true, functionId: 'weather-assistant' };
const common = { maxRetries: 0, experimental_telemetry: telemetry };
const getWeather = tool({
  description: 'Current weather for a city.',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, temperature_c: 18, sky: 'cloudy' }),
});

async function scenario() {
  // a tool call and its answer: two model calls in one generateText
  const answer = await generateText({
    ...common,
    model: model('gpt-4o-mini'),
    system: 'You are a weather assistant.',
    prompt: 'What is the weather in Paris?',
    tools: { get_weather: getWeather },
    stopWhen: stepCountIs(3),
    temperature: 0.2,
    maxOutputTokens: 200,
  });
  if (!answer.text) throw new Error('no answer after the tool call');
  await generateText({
    ...common,
    model: model('o4-mini'),
    prompt: 'Is 17 prime?',
    providerOptions: { openai: { reasoningEffort: 'low' } },
  });
  const stream = streamText({
    ...common,
    model: model('gpt-4o-mini'),
    prompt: 'Do I need an umbrella?',
  });
  let text = '';
  for await (const piece of stream.textStream) text += piece;
  if (!text) throw new Error('the streamed answer was empty');
  for (const status of [429, 500]) {
    try {
      await generateText({ ...common, model: model('gpt-4o-mini'), prompt: `Hi [${status}]` });
      throw new Error(`the fake did not answer ${status}`);
    } catch (error) {
      if (String(error).includes('did not answer')) throw error;
    }
  }
}

const tracer = trace.getTracer('corpus.app');
try {
  await tracer.startActiveSpan('weather-assistant', async (span) => {
    try {
      await scenario();
    } finally {
      span.end();
    }
  });
} finally {
  await sdk.shutdown();
}
