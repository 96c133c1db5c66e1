using System.Text.Json;
using System.Text.Json.Serialization;

namespace Causeway.Relay.Protocol;

/// <summary>One control-channel message; exactly one member is set. Names follow the Hybrid Connections protocol.</summary>
internal sealed record ControlMessage(
    AcceptCommand? Accept = null,
    RequestCommand? Request = null,
    ResponseCommand? Response = null,
    RenewTokenCommand? RenewToken = null);

/// <summary>Service -> listener: a sender wants a WebSocket; rendezvous at <see cref="Address"/>.</summary>
internal sealed record AcceptCommand(
    string Address,
    string Id,
    Dictionary<string, string> ConnectHeaders,
    RemoteEndpoint? RemoteEndpoint);

/// <summary>
/// Service -> listener: an HTTP-mode request. When only <see cref="Address"/> and <see cref="Id"/> are set, the request is
/// too large for the control channel and follows on the rendezvous socket.
/// </summary>
internal sealed record RequestCommand(
    string Address,
    string Id,
    string? RequestTarget = null,
    string? Method = null,
    RemoteEndpoint? RemoteEndpoint = null,
    Dictionary<string, string>? RequestHeaders = null,
    bool? Body = null);

/// <summary>
/// Listener -> service: the response to request <see cref="RequestId"/>. Header values are kept as JSON because Node's
/// listener sends numbers and arrays as they were set.
/// </summary>
internal sealed record ResponseCommand(
    string? RequestId,
    int StatusCode,
    string? StatusDescription = null,
    Dictionary<string, JsonElement>? ResponseHeaders = null,
    bool Body = false);

/// <summary>Listener -> service: a fresh token for the control channel.</summary>
internal sealed record RenewTokenCommand(string? Token);

/// <summary>The sender's address as the relay saw it.</summary>
internal sealed record RemoteEndpoint(string Address, int Port);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(ControlMessage))]
[JsonSerializable(typeof(string))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext;

internal static class ProtocolJson
{
    public static byte[] Serialize(ControlMessage message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, ProtocolJsonContext.Default.ControlMessage);

    /// <summary>Parses a control-channel text message; null when it is not one this side understands.</summary>
    public static ControlMessage? TryParse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, ProtocolJsonContext.Default.ControlMessage);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Header values as text: strings as they are, arrays joined with ", ", anything else as its JSON.</summary>
    public static string HeaderValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(HeaderValue)),
        _ => value.GetRawText(),
    };
}
