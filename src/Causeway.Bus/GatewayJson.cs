using System.Text.Json;
using System.Text.Json.Serialization;

namespace Causeway.Bus;

/// <summary>
/// Compile-time JSON metadata of the messages every gateway data request carries (both ends, every request): the same
/// JSON as <see cref="JsonSerializerDefaults.Web"/> with nulls left out, without reflection on the request path.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DataRequestMessage))]
[JsonSerializable(typeof(DataResponseHead))]
public sealed partial class GatewayJson : JsonSerializerContext;

/// <summary>
/// The transports' own frames (request header, error body) with the default options they have always been written
/// with (property names as declared, nulls written), so that older peers read them unchanged.
/// </summary>
[JsonSerializable(typeof(BusRequestHeader))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class BusJson : JsonSerializerContext;

/// <summary>The header of a bus request frame (WebSocket transport): operation, deadline (Unix ms) and idempotency key.</summary>
internal sealed record BusRequestHeader(string Operation, long? Deadline, string? IdempotencyKey);
