// ONNX Runtime 1.29+ collects usage telemetry on Linux and macOS too: it writes a device id and an event database
// under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and uploads the events to Microsoft over HTTPS. Attentive
// promises no network unless the user downloads a model, so it turns that off. ONNX Runtime reads the switch with
// getenv() when it creates its environment, so it must be in the process environment before the first session:
// setting process.env on a main thread does that (a worker thread's process.env is its own copy, invisible to native
// code), so the engine sets it where it starts the worker, and where a session is created in-process.

process.env['ORT_DISABLE_TELEMETRY'] = '1';

export {};
