// Generated from schemas/ by `npm run gen:types` (devtools/gen-types.ts): do not edit by hand.
// `Config` is the rendered configuration of a device: the properties that schema defaults fill in are present.

/**
 * A configuration document (config/*.yaml, environments/* /overrides.yaml) and, merged, the rendered
 * configuration of one device. tunables (overrides.yaml only) narrows runtime tunables and is not rendered.
 */
export interface Config {
  /**
   * Format version of this document; `gitops migrate` brings older documents up to date.
   */
  version?: number;
  frame_capture: FrameCapture;
  motion: Motion;
  detectors: Detectors;
  face_recognition: FaceRecognition;
  notifications: Notifications;
  storage: Storage;
  web_interface: WebInterface;
  logging: Logging;
  hardware: Hardware;
  components: Components;
  load_governor: LoadGovernor;
  tunables?: Tunables;
}
/**
 * How the doorbell grabs frames from its camera: source, pixel format, resolution and frame rate.
 */
export interface FrameCapture {
  /**
   * Where frames come from: a V4L2 device node (USB webcam), the board's CSI camera through libcamera, or an
   * RTSP stream.
   */
  source: 'v4l2' | 'csi' | 'rtsp';
  /**
   * Camera device node for v4l2 and csi sources, as listed in the model's hardware profile.
   */
  device: string;
  /**
   * RTSP URL for rtsp sources, without credentials (they belong in username/password).
   */
  url?: string;
  /**
   * RTSP user name.
   */
  username?: string;
  /**
   * RTSP password.
   */
  password?: string;
  /**
   * V4L2 FourCC of the capture format. Compressed formats (MJPG, H264) give higher frame rates on USB 2
   * webcams.
   */
  pixel_format: 'MJPG' | 'YUYV' | 'H264' | 'NV12' | 'NV21' | 'YU12' | 'YV12' | 'UYVY' | 'RGB3' | 'BGR3' | 'JPEG';
  /**
   * Capture width in pixels; the camera must offer this size in the chosen pixel format.
   */
  width: number;
  /**
   * Capture height in pixels.
   */
  height: number;
  /**
   * Frames per second asked of the camera.
   */
  fps: number;
  /**
   * Clockwise rotation applied to every frame, for cameras mounted sideways or upside down.
   */
  rotation: 0 | 90 | 180 | 270;
  /**
   * Frames buffered between capture and analysis; more smooths bursts, fewer keeps latency low.
   */
  buffer_frames: number;
}
/**
 * Motion detection that gates the (more expensive) object detectors.
 */
export interface Motion {
  /**
   * Run motion detection; when off, every frame goes to the detectors.
   */
  enabled: boolean;
  /**
   * 0 ignores everything, 1 reacts to a single changed pixel.
   */
  sensitivity: number;
  /**
   * Smallest changed area, in percent of the frame, that counts as motion.
   */
  min_area_percent: number;
  /**
   * Seconds after a motion event during which a new event is not raised.
   */
  cooldown_seconds: number;
  /**
   * Named areas of the frame to watch, keyed by zone name; an empty map watches the whole frame.
   */
  zones: {
    /**
     * One zone.
     */
    [k: string]: {
      /**
       * Corners of the zone as [x, y] pairs, in fractions of the frame (0..1).
       *
       * @minItems 3
       */
      polygon: [[number, number], [number, number], [number, number], ...[number, number][]];
      /**
       * Mask this zone out instead of watching it (a street, a tree).
       */
      ignore?: boolean;
    };
  };
}
/**
 * Object detectors run on frames with motion, keyed by detector name.
 */
export interface Detectors {
  /**
   * One object detector.
   */
  [k: string]: {
    /**
     * Run this detector.
     */
    enabled?: boolean;
    /**
     * Where inference runs: the CPU, an NVIDIA GPU through CUDA, a Coral Edge TPU, a Hailo NPU, or Intel graphics
     * through OpenVINO.
     */
    runtime: 'cpu' | 'cuda' | 'coral' | 'hailo' | 'openvino';
    /**
     * Absolute path of the model file on the device.
     */
    model_path: string;
    /**
     * SHA-256 of the model file; the device refuses a model whose digest differs.
     */
    model_sha256?: string;
    /**
     * Object classes this detector reports.
     */
    labels?: string[];
    /**
     * Detections below this score are dropped.
     */
    confidence_threshold?: number;
    /**
     * Square input size of the model in pixels.
     */
    input_size?: number;
    /**
     * Run inference on every n-th frame with motion (1: every frame, 2: every other frame); the tracker bridges
     * the frames in between.
     */
    frame_interval?: number;
    /**
     * GPU memory the detector needs when its runtime is cuda (on a Jetson, this comes out of system RAM).
     */
    gpu_memory_mb?: number;
  };
}
/**
 * Recognise known visitors in the crops of a person detector.
 */
export interface FaceRecognition {
  /**
   * Run face recognition.
   */
  enabled: boolean;
  /**
   * Name of the detector (under detectors) whose person crops are searched for faces; it must be enabled.
   */
  detector: string;
  /**
   * Where the face embedding model runs.
   */
  runtime: 'cpu' | 'cuda';
  /**
   * Absolute path of the face embedding model on the device.
   */
  model_path: string;
  /**
   * Cosine similarity above which a face counts as a known visitor.
   */
  match_threshold: number;
  /**
   * Directory with one sub-directory of reference images per known visitor.
   */
  known_faces_dir: string;
  /**
   * Faces examined per frame at most.
   */
  max_faces_per_frame: number;
}
/**
 * Where the doorbell tells people that someone is at the door.
 */
export interface Notifications {
  /**
   * Seconds between two notifications for the same kind of event.
   */
  min_interval_seconds: number;
  /**
   * Local time window in which only doorbell presses notify, e.g. 22:00-07:00.
   */
  quiet_hours?: string;
  /**
   * Events that notify.
   */
  events: ('ring' | 'person' | 'known_face' | 'package' | 'motion')[];
  /**
   * Telegram bot messages.
   */
  telegram: {
    /**
     * Send through Telegram.
     */
    enabled: boolean;
    /**
     * Bot token from @BotFather.
     */
    bot_token?: string;
    /**
     * Chat that receives the messages.
     */
    chat_id?: string;
  };
  /**
   * An HTTP POST with a JSON body per event.
   */
  webhook: {
    /**
     * Call the webhook.
     */
    enabled: boolean;
    /**
     * Endpoint that receives the POST.
     */
    url?: string;
    /**
     * Value of the Authorization header sent with the POST.
     */
    auth_header?: string;
    /**
     * Give up on the webhook after this many milliseconds.
     */
    timeout_ms: number;
  };
  /**
   * E-mail through an SMTP relay.
   */
  email: {
    /**
     * Send e-mail.
     */
    enabled: boolean;
    /**
     * SMTP relay host name.
     */
    smtp_host?: string;
    /**
     * SMTP port (587 for STARTTLS, 465 for TLS).
     */
    smtp_port: number;
    /**
     * SMTP user.
     */
    username?: string;
    /**
     * SMTP password.
     */
    password?: string;
    /**
     * Recipients.
     *
     * @minItems 1
     */
    to?: [string, ...string[]];
  };
  /**
   * Push notifications through an ntfy-compatible server.
   */
  push: {
    /**
     * Send push notifications.
     */
    enabled: boolean;
    /**
     * Base URL of the push server.
     */
    server_url?: string;
    /**
     * Topic the phones subscribe to; may use ${device.id}.
     */
    topic?: string;
    /**
     * Token for a protected topic.
     */
    access_token?: string;
    /**
     * Message priority (1 lowest, 5 urgent).
     */
    priority: number;
  };
}
/**
 * Event clips kept on the device.
 */
export interface Storage {
  /**
   * Directory for clips and snapshots.
   */
  path: string;
  /**
   * Clips older than this are deleted.
   */
  retention_days: number;
  /**
   * Space the clips may use; the oldest go first when it is reached.
   */
  max_size_gb: number;
  /**
   * Length of a clip per event.
   */
  clip_seconds: number;
  /**
   * Encoding bit rate of clips.
   */
  bitrate_kbps: number;
  /**
   * Planning figure: events per day, used to check that retention fits max_size_gb.
   */
  expected_events_per_day: number;
}
/**
 * The doorbell's local web interface (live view, clips, settings).
 */
export interface WebInterface {
  /**
   * Serve the web interface.
   */
  enabled: boolean;
  /**
   * Address to bind; 127.0.0.1 keeps it local, 0.0.0.0 opens it to the network.
   */
  listen_address: {
    [k: string]: unknown;
  } & string;
  /**
   * TCP port.
   */
  port: number;
  /**
   * HTTPS.
   */
  tls: {
    /**
     * Serve HTTPS instead of HTTP.
     */
    enabled: boolean;
    /**
     * PEM certificate chain.
     */
    cert_file?: string;
    /**
     * PEM private key (a path on the device, not the key itself).
     */
    key_file?: string;
    /**
     * CA bundle that client certificates must chain to (for auth.mode client_certificate).
     */
    client_ca_file?: string;
  };
  /**
   * Who may use the web interface.
   */
  auth: {
    /**
     * none (open), basic (users below), or client_certificate (mutual TLS).
     */
    mode: 'none' | 'basic' | 'client_certificate';
    /**
     * Users for basic authentication, keyed by user name.
     */
    users?: {
      /**
       * One user.
       */
      [k: string]: {
        /**
         * bcrypt or argon2 hash of the password.
         */
        password_hash?: string;
        /**
         * viewer watches, admin also changes settings.
         */
        role?: 'viewer' | 'admin';
      };
    };
    /**
     * Minutes before a login expires.
     */
    session_minutes: number;
  };
  /**
   * Concurrent live-view clients at most.
   */
  max_stream_clients: number;
}
/**
 * Log output of every pipeline component.
 */
export interface Logging {
  /**
   * Lowest level written.
   */
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /**
   * text for people, json for collectors.
   */
  format: 'text' | 'json';
  /**
   * Where logs go.
   */
  destination: 'stdout' | 'journald' | 'file';
  /**
   * Log file when destination is file.
   */
  file?: string;
  /**
   * Rotate the log file at this size.
   */
  max_file_mb: number;
}
/**
 * What the configuration needs from the device; checked against the model's recorded profile in CI and
 * against a live probe on the device.
 */
export interface Hardware {
  /**
   * System RAM the pipeline needs.
   */
  min_ram_mb: number;
  /**
   * Disk that must stay free beside storage.max_size_gb.
   */
  min_free_disk_mb: number;
  /**
   * Oldest CUDA version (as nvidia-smi reports it, or the CUDA of the Jetson's L4T) the cuda detectors are
   * built for.
   */
  min_cuda_version: string;
}
/**
 * The processes of the pipeline, keyed by name: which sections each consumes, how it is reloaded and
 * health-checked, and what it depends on.
 */
export interface Components {
  /**
   * One pipeline process.
   */
  [k: string]: {
    /**
     * What the process does.
     */
    description?: string;
    /**
     * Configuration sections this process consumes; it is reconfigured when one of them changes.
     *
     * @minItems 1
     */
    sections: [string, ...string[]];
    /**
     * Components that must be reconfigured before this one.
     */
    depends_on?: string[];
    /**
     * TCP port the process listens on (checked for clashes).
     */
    listen_port?: number;
    /**
     * How the agent hands the process a new configuration.
     */
    reload: {
      /**
       * http: POST to validate/apply endpoints; signal: SIGHUP to the pid in pid_file; command: run a command;
       * file: the process watches its file through agent/client.
       */
      method: 'http' | 'signal' | 'command' | 'file';
      /**
       * Base URL of the process's configuration endpoints (http).
       */
      url?: string;
      /**
       * File holding the process id (signal): an absolute path, not under /dev, /proc or /sys.
       */
      pid_file?: string;
      /**
       * Program and arguments, run without a shell (command).
       *
       * @minItems 1
       */
      command?: [string, ...string[]];
      /**
       * Give up on the reload after this many milliseconds.
       */
      timeout_ms?: number;
    };
    /**
     * How the agent decides the process runs well after a change.
     */
    health?: {
      /**
       * HTTP endpoint that answers 2xx when healthy.
       */
      url?: string;
      /**
       * Timeout of one health request.
       */
      timeout_ms?: number;
      /**
       * How long the process must stay healthy before the release counts as good.
       */
      bake_seconds?: number;
    };
    /**
     * Where the process reports its own figures (inference latency, dropped frames, queue depth) for the load
     * governor; a file-method component reports them with agent/client's report() instead.
     */
    metrics?: {
      /**
       * HTTP endpoint that answers {"time", "values": {name: number}}.
       */
      url: string;
      /**
       * Timeout of one metrics request.
       */
      timeout_ms?: number;
    };
  };
}
/**
 * The load governor of the agent (DESIGN.md section 9): signals from the machine and from components, each
 * with an enter and an exit threshold and a dwell time (hysteresis), and a degradation ladder. While any
 * signal is hot the agent steps down the ladder, one step per degrade_interval_seconds at most; once every
 * signal is back to normal it steps back up, one step per restore_interval_seconds at most. Each step is a
 * set of governor leases on tunable fields (x-tunable with owner governor), within the signed bounds and only
 * in a field's safe direction; protected fields are never written. No data holds: a missing sample never
 * restores a step. CI refuses a ladder step that is not tunable here, leaves its bounds or grid, touches a
 * protected field or is less conservative than the signed value.
 */
export interface LoadGovernor {
  /**
   * Run the load governor on the device. When off, no governor lease is held and the signed configuration
   * stands.
   */
  enabled: boolean;
  /**
   * How often the governor samples its signals and decides; a step it enters takes effect within one tick.
   */
  tick_seconds: number;
  /**
   * At least this long between two steps down the ladder (degrade fast: the first step is taken at once).
   */
  degrade_interval_seconds: number;
  /**
   * At least this long at a step, after the last move either way, before one step back up (restore slowly).
   */
  restore_interval_seconds: number;
  /**
   * Moves on the ladder (down or up) in any hour at most; keep it within the change budget
   * (max_changes_per_hour) of every field the ladder sets.
   */
  max_transitions_per_hour: number;
  /**
   * How long a governor lease lives unless the governor renews it (it renews every tick while the step holds),
   * so that a stalled governor lets go on its own. At least two ticks, and within every ladder field's
   * max_ttl_seconds.
   */
  lease_ttl_seconds: number;
  /**
   * What the governor watches, keyed by a name of your choice. A signal is hot after staying beyond its enter
   * threshold for enter_for_seconds, and normal again after staying beyond its exit threshold for
   * exit_for_seconds. Give enter_above and exit_below (high is bad: temperature, utilisation, latency) or
   * enter_below and exit_above (low is bad: available memory).
   */
  signals: {
    /**
     * One signal: a source, two thresholds (enter_above and exit_below, or enter_below and exit_above) and two
     * dwell times.
     */
    [k: string]: {
      /**
       * Where the value comes from. From the machine: soc_temp_c (hottest thermal zone, degrees C), cpu_utilisation
       * (0..1, /proc/stat), load_per_core (1-minute load average per core), gpu_temp_c, gpu_utilisation (0..1),
       * gpu_throttled (0 or 1: NVIDIA clock throttle reasons for power or heat), pi_throttled (0 or 1: vcgencmd
       * get_throttled, now), mem_available_ratio (MemAvailable / MemTotal). From a component: <component>.<metric>,
       * a figure the component reports itself (agent/client report), e.g. detector.inference_latency_ms.
       */
      source: string;
      /**
       * The signal starts to enter (heat up) above this value.
       */
      enter_above?: number;
      /**
       * The signal starts to leave (cool down) below this value; below enter_above.
       */
      exit_below?: number;
      /**
       * For a signal where low is bad: it starts to enter below this value.
       */
      enter_below?: number;
      /**
       * For a signal where low is bad: it starts to leave above this value; above enter_below.
       */
      exit_above?: number;
      /**
       * How long the value must stay beyond the enter threshold, every sample, before the signal is hot (0: at the
       * first such sample).
       */
      enter_for_seconds?: number;
      /**
       * How long the value must stay beyond the exit threshold, every sample, before the signal is normal again. A
       * missing sample starts this dwell over.
       */
      exit_for_seconds?: number;
    };
  };
  /**
   * The degradation steps, mildest first. Step n holds the settings of steps 1..n (a later step wins for a
   * field both set); step 0 is the signed configuration.
   *
   * @maxItems 32
   */
  ladder: {
    /**
     * What the step does, unique in the ladder, e.g. face_recognition_off.
     */
    name: string;
    /**
     * Dotted path of a tunable field (a map entry may be *, for every entry of the map) -> the value this step
     * gives it.
     */
    set: {
      /**
       * The value.
       */
      [k: string]: string | number | boolean;
    };
  }[];
  /**
   * Dotted paths or prefixes the governor never writes. notifications (the ring and its notifications),
   * web_interface (live view) and storage (recording) are always protected, listed here or not.
   */
  protected: string[];
}
/**
 * Narrowing of runtime tunables for an environment (tunables: in environments/<env>/overrides.yaml) or one
 * device (tunables: in its device file). A field is tunable when its schema carries x-tunable: bounds
 * (minimum and maximum on a grid of step, or enum), applies (hot, or restart of its component),
 * safe_direction (down or up: the load governor may only move the value that way), owners (who may hold a
 * lease on it: operator, governor, experiment, tuner), default_ttl_seconds, max_ttl_seconds (default 86400)
 * and max_changes_per_hour. Here each key is the dotted path of such a field (a map entry may be *); its
 * value may only narrow what the schema (and, for a device, its environment) allows, never widen it. Not part
 * of the rendered configuration.
 */
export interface Tunables {
  /**
   * What this environment or device allows for one tunable field, within what the schema allows.
   */
  [k: string]: {
    /**
     * Lowest value a runtime layer may set; on the field's step grid.
     */
    minimum?: number;
    /**
     * Highest value a runtime layer may set; on the field's step grid.
     */
    maximum?: number;
    /**
     * The values a runtime layer may set, a subset of the schema's.
     *
     * @minItems 1
     */
    enum?: [string | number | boolean, ...(string | number | boolean)[]];
    /**
     * Who may hold a lease on the field here, a subset of the schema's owners.
     */
    owners?: ('operator' | 'governor' | 'experiment' | 'tuner')[];
    /**
     * Time to live of a lease that names none.
     */
    default_ttl_seconds?: number;
    /**
     * Longest time to live of a lease.
     */
    max_ttl_seconds?: number;
    /**
     * Change budget: lease changes per hour at most.
     */
    max_changes_per_hour?: number;
  };
}

/**
 * What a device model (config/hardware/<model>.yaml) or a live device (gitops hardware probe) offers: CPU,
 * memory, disk, GPU, accelerators and cameras with their modes.
 */
export interface HardwareProfile {
  /**
   * Format version of this document.
   */
  version: number;
  /**
   * Model name; equals the file name under config/hardware/.
   */
  model: string;
  /**
   * What the model is, for people.
   */
  description?: string;
  /**
   * Captured command outputs the facts were taken from.
   */
  sources?: string[];
  /**
   * Processor.
   */
  cpu?: {
    /**
     * Machine architecture as uname -m prints it.
     */
    arch?: string;
    /**
     * Logical CPUs.
     */
    cores?: number;
  };
  /**
   * Board model from /proc/device-tree/model (Raspberry Pi, Jetson), when there is one.
   */
  board?: string;
  /**
   * System RAM in MiB.
   */
  memory_mb: number;
  /**
   * RAM available when a live probe measured it (MemAvailable).
   */
  memory_available_mb?: number;
  /**
   * The file system that holds storage.path.
   */
  disk?: {
    /**
     * Mount point measured.
     */
    path?: string;
    /**
     * Size in MiB.
     */
    total_mb: number;
    /**
     * Free space in MiB when measured (live probes).
     */
    free_mb?: number;
  };
  /**
   * NVIDIA GPU, if any (absent or null: no CUDA).
   */
  gpu?: {
    /**
     * GPU name as nvidia-smi prints it.
     */
    name: string;
    /**
     * desktop: discrete GPU with its own memory; jetson: integrated, memory shared with the system.
     */
    platform: 'desktop' | 'jetson';
    /**
     * GPU memory (desktop GPUs).
     */
    memory_mib?: number;
    /**
     * Kernel driver version.
     */
    driver_version?: string;
    /**
     * Highest CUDA version the driver supports (desktop) or the L4T release's CUDA (Jetson).
     */
    cuda_version?: string | null;
    /**
     * L4T release on a Jetson, e.g. 32.7.6.
     */
    l4t_version?: string;
  } | null;
  /**
   * Inference accelerators found.
   */
  accelerators?: {
    /**
     * Kind of accelerator.
     */
    type: 'coral-usb' | 'coral-pcie' | 'hailo' | 'intel-vaapi';
    /**
     * Device node or USB id.
     */
    device?: string;
    /**
     * Driver or firmware detail.
     */
    detail?: string;
  }[];
  /**
   * Cameras and the modes each offers.
   */
  cameras: {
    /**
     * Device node, e.g. /dev/video0.
     */
    device: string;
    /**
     * Card name reported by the driver.
     */
    name?: string;
    /**
     * Kernel driver, e.g. uvcvideo.
     */
    driver?: string;
    /**
     * Bus the camera hangs off, e.g. usb or csi.
     */
    bus?: string;
    /**
     * Pixel formats with their frame sizes and rates.
     */
    formats: {
      /**
       * V4L2 FourCC.
       */
      fourcc: string;
      /**
       * Driver's description.
       */
      description?: string;
      /**
       * Discrete frame sizes.
       */
      modes: {
        /**
         * Width in pixels.
         */
        width: number;
        /**
         * Height in pixels.
         */
        height: number;
        /**
         * Frame rates offered (empty: not enumerable).
         */
        fps: number[];
      }[];
      /**
       * A continuous size range instead of discrete modes.
       */
      stepwise?: {
        /**
         * Smallest width.
         */
        min_width: number;
        /**
         * Largest width.
         */
        max_width: number;
        /**
         * Width step.
         */
        step_width: number;
        /**
         * Smallest height.
         */
        min_height: number;
        /**
         * Largest height.
         */
        max_height: number;
        /**
         * Height step.
         */
        step_height: number;
      } | null;
    }[];
  }[];
  /**
   * Network camera streams probed with ffprobe (URLs without credentials).
   */
  streams?: {
    /**
     * The stream URL, credentials removed.
     */
    url: string;
    /**
     * Video codec.
     */
    codec?: string | null;
    /**
     * Width in pixels; null when not seen.
     */
    width?: number | null;
    /**
     * Height in pixels; null when not seen.
     */
    height?: number | null;
    /**
     * Frame rate; null when the camera does not signal it.
     */
    fps?: number | null;
    /**
     * Why the stream could not be probed.
     */
    error?: string;
  }[];
  /**
   * Model files the configuration names, as found on the device.
   */
  model_files?: {
    /**
     * Absolute path.
     */
    path: string;
    /**
     * The file exists and is readable.
     */
    present: boolean;
    /**
     * Its SHA-256, when present.
     */
    sha256?: string | null;
    /**
     * Its size in bytes, when present.
     */
    size?: number | null;
  }[];
  /**
   * When a live probe measured this (absent for recorded profiles).
   */
  probed_at?: string;
  /**
   * Facts a live probe could not establish, with the reason (e.g. v4l2-ctl missing).
   */
  unknown?: {
    /**
     * Why.
     */
    [k: string]: string;
  };
}

/**
 * The on-device agent's own settings (agent.yaml, given with gitops agent --config). The trust root lives
 * here, never in the repository.
 */
export interface AgentSettings {
  /**
   * Format version of this document.
   */
  version: number;
  /**
   * The configuration repository.
   */
  remote: {
    /**
     * Smart-HTTP(S) URL of the repository.
     */
    url: string;
    /**
     * Branch the device follows.
     */
    branch?: string;
    /**
     * File holding an access token for a private remote.
     */
    token_file?: string;
    /**
     * Largest pack the agent accepts.
     */
    max_fetch_mb?: number;
    /**
     * Give up a fetch after this long.
     */
    fetch_timeout_seconds?: number;
    /**
     * Which ref the device follows. auto: its wave's ref (refs/heads/rollout/<env>/<wave>) when the environment
     * declares a rollout (or remote.wave is set), else the branch. branch: the branch, ignoring any rollout (a
     * bench unit).
     */
    follow?: 'auto' | 'branch';
    /**
     * The wave this device follows, set explicitly; without it the wave is derived from the environment's
     * rollout, the device's cohort and its id (gitops rollout plan shows it).
     */
    wave?: string;
  };
  /**
   * Environment this device belongs to.
   */
  environment: string;
  /**
   * This device's id (environments/<env>/devices/<id>.yaml).
   */
  device_id: string;
  /**
   * The device's age identity, for its environment's secrets.
   */
  age_identity_file?: string;
  /**
   * Which signatures the device accepts.
   */
  trust: {
    /**
     * Directory with allowed_signers and *.asc public keys.
     */
    dir: string;
    /**
     * Verify every new commit, or the first-parent chain only.
     */
    mode?: 'all' | 'first-parent';
    /**
     * Commit the first sync starts from (pinned at enrolment).
     */
    anchor_commit?: string;
  };
  /**
   * Directory for releases, journal and state.
   */
  state_dir: string;
  /**
   * Seconds between polls of the remote (jitter is added).
   */
  poll_interval_seconds?: number;
  /**
   * The local HTTP API.
   */
  api?: {
    /**
     * host:port to listen on.
     */
    listen?: string;
    /**
     * File of hashed bearer tokens with roles (gitops agent token add writes it).
     */
    tokens_file?: string;
    /**
     * Let unauthenticated loopback clients read status, configuration (redacted), journal, releases, events and
     * metrics.
     */
    allow_loopback_reads?: boolean;
    /**
     * Sync and rollback requests one caller may make per minute (10 at once).
     */
    mutations_per_minute?: number;
  };
  /**
   * Fleet telemetry: the agent pushes its metrics to a Prometheus remote-write endpoint (Prometheus with
   * --web.enable-remote-write-receiver, Mimir, Thanos, VictoriaMetrics), so that a device behind NAT needs no
   * inbound connection.
   */
  telemetry?: {
    /**
     * Where and how often the agent pushes.
     */
    remote_write?: {
      /**
       * The remote-write endpoint, e.g. https://prometheus.example/api/v1/write.
       */
      url: string;
      /**
       * File holding a bearer token sent with every push (read at each push: it may be rotated).
       */
      token_file?: string;
      /**
       * Seconds between pushes.
       */
      interval_seconds?: number;
      /**
       * Give up one push after this long (it is queued and retried).
       */
      timeout_seconds?: number;
      /**
       * Pushes kept while the endpoint cannot be reached; the oldest are dropped beyond it (and counted).
       */
      max_queue?: number;
      /**
       * Extra labels on every series (environment, device and wave are always set).
       */
      labels?: {
        [k: string]: string;
      };
    };
  };
  /**
   * Validate against this recorded profile instead of probing the hardware (a bench unit standing in for a
   * device model).
   */
  hardware_profile_file?: string;
}
