// Gramophone: a SuperCollider client for the Gramophone server (`gramophone serve`).
//
// A Buffer goes in, a new Buffer comes out: render writes the Buffer to a temporary float WAV,
// asks the server over OSC to render it in the style of a preset, and reads the result back
// into a new Buffer on the same server. renderFile does the same for files. Replies come back
// to sclang's own port, so no reply port is needed. The OSC addresses are the server's table
// (bridge/addresses.py); see HelpSource/Classes/Gramophone.schelp for the whole interface.

Gramophone {
	classvar <>defaultTimeout = 5, jobCounter = 0;
	var <addr, <>timeout, jobs, unsent, responders, presetList, presetWaiters;

	*new { |host = "127.0.0.1", port = 7770|
		^super.new.init(host, port)
	}

	init { |host, port|
		addr = NetAddr(host, port);
		timeout = defaultTimeout;
		jobs = Dictionary.new;
		unsent = Set.new;  // Buffer renders whose file is still being written
		presetWaiters = List.new;
		responders = [
			this.prJobResponder('/gramophone/queued', { |job| job[\queued] = true }),
			this.prJobResponder('/gramophone/progress', { |job, msg| job[\progress].value(msg[2]) }),
			// with the option variations N > 1: one reply per take (number, count, path), before done
			this.prJobResponder('/gramophone/take', { |job, msg| job[\take].value(msg[4].asString, msg[2], msg[3]) }),
			this.prJobResponder('/gramophone/done', { |job, msg|
				jobs.removeAt(msg[1].asString);
				job[\done].value(msg[2].asString)
			}),
			this.prJobResponder('/gramophone/error', { |job, msg|
				jobs.removeAt(msg[1].asString);
				job[\error].value(msg[2].asSymbol, msg[3].asString)
			}),
			this.prJobResponder('/gramophone/cancelled', { |job, msg|
				jobs.removeAt(msg[1].asString);
				job[\error].value(\cancelled, "cancelled")
			}),
			this.prResponder('/gramophone/preset', { |msg|
				presetList.add((name: msg[1].asString, model: msg[2].asString, origin: msg[3].asString,
					description: msg[4].asString))
			}),
			this.prResponder('/gramophone/presets/end', { |msg| this.prPresetsArrived })
		];
	}

	// Render a Buffer; action.(newBuffer) gets the result on the same server. Returns the job id.
	render { |buffer, preset, action, progress, error, options|
		var id = this.prNextId, onError = error ? this.prDefaultError;
		var stem = Platform.defaultTempDir +/+ "gramophone-%".format(id);
		var inPath = stem ++ "-in.wav", outPath = stem ++ "-out.wav";
		var server = buffer !? { buffer.server };
		if(server.isNil or: { server.serverRunning.not }) {
			onError.value(\server_not_running, "the Buffer's server is not running: boot it first (s.boot)");
			^id
		};
		unsent.add(id);
		fork {
			buffer.write(inPath, "wav", "float");
			server.sync;
			unsent.remove(id);
			this.prSubmit(id, inPath, preset, outPath, options, progress,
				done: { |path|
					Buffer.read(server, path, action: { |result|
						[inPath, outPath].do(File.delete(_));
						action.value(result)
					})
				},
				error: { |code, message| File.delete(inPath); onError.value(code, message) });
		};
		^id
	}

	// Render a file into a file (absolute paths; "~" is expanded); action.(outPath). With the option
	// variations N, take.(path, number, count) gets each take (OUT-v1.wav ...) and action the first.
	// Returns the job id.
	renderFile { |inPath, preset, outPath, action, progress, error, options, take|
		var id = this.prNextId;
		this.prSubmit(id, inPath.standardizePath, preset, outPath.standardizePath, options, progress,
			done: action, error: error ? this.prDefaultError, take: take);
		^id
	}

	// Stop a queued or running job; its error function gets \cancelled.
	cancel { |id|
		id = id.asString;
		if(unsent.includes(id)) { unsent.remove(id); jobs[id] = \cancelled } {
			addr.sendMsg('/gramophone/cancel', id)
		}
	}

	// action.(names, details): the server's preset names, and an Event per preset
	// (name, model, origin, description).
	presets { |action, error|
		var waiter = (action: action, error: error ? this.prDefaultError);
		presetWaiters.add(waiter);
		if(presetWaiters.size == 1) {
			presetList = List.new;
			addr.sendMsg('/gramophone/presets')
		};
		SystemClock.sched(timeout, {
			if(presetWaiters.includes(waiter)) {
				presetWaiters.remove(waiter);
				waiter[\error].value(\timeout, this.prNoReply)
			};
			nil
		})
	}

	// Remove the OSC responders (also forgets pending jobs).
	free {
		responders.do(_.free);
		responders = nil;
		jobs.clear;
		unsent.clear;
		presetWaiters.clear
	}

	printOn { |stream|
		stream << "Gramophone(" << addr.ip << ":" << addr.port << ")"
	}

	prNextId {
		jobCounter = jobCounter + 1;
		^"sc%-%-%".format(NetAddr.langPort, Date.localtime.stamp, jobCounter)
	}

	prSubmit { |id, inPath, preset, outPath, options, progress, done, error, take|
		var job = (progress: progress, done: done, error: error, take: take, queued: false);
		if(jobs[id] == \cancelled) {  // cancelled before it could be sent
			jobs.removeAt(id);
			^error.value(\cancelled, "cancelled")
		};
		if(options.isKindOf(Dictionary)) { options = options.getPairs };
		jobs[id] = job;
		addr.sendMsg('/gramophone/render', id, inPath, preset.asString, outPath, *(options ? []));
		SystemClock.sched(timeout, {
			if(jobs[id] === job and: { job[\queued].not }) {
				jobs.removeAt(id);
				error.value(\timeout, this.prNoReply)
			};
			nil
		})
	}

	prPresetsArrived {
		var names = presetList.collect(_[\name]).asArray, details = presetList.asArray;
		var waiters = presetWaiters.copy;
		presetWaiters.clear;
		waiters.do { |waiter| waiter[\action].value(names, details) }
	}

	prNoReply {
		^"no reply from the Gramophone server at %:% within % s: is `gramophone serve` running there?"
		.format(addr.ip, addr.port, timeout)
	}

	prDefaultError {
		^{ |code, message| "Gramophone: % (%)".format(message, code).warn }
	}

	// An OSCFunc that survives Cmd-period (stopping sound must not orphan a running render).
	prResponder { |path, function|
		^OSCFunc({ |msg| function.value(msg) }, path, addr).fix
	}

	prJobResponder { |path, function|
		^this.prResponder(path, { |msg|
			var job = jobs[msg[1].asString];
			job !? { function.value(job, msg) }
		})
	}
}
