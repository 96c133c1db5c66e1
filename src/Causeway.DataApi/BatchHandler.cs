using Causeway.Data;

namespace Causeway.DataApi;

/// <summary><c>$batch</c>: not implemented yet.</summary>
internal static class BatchHandler
{
    public static Task HandleAsync(DataApiHandler handler, DataRequest request) =>
        throw new DataRequestException(501, DataErrorCodes.InvalidQuery, "$batch is not supported by this server yet; send the requests one by one.");
}
