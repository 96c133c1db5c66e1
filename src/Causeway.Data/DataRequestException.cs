namespace Causeway.Data;

/// <summary>
/// The one exception the engine throws for a request it cannot serve. <see cref="Exception.Message"/> is safe to show
/// to the caller: it names the problem in the request and never contains database error text.
/// </summary>
public sealed class DataRequestException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DataRequestException(int statusCode, string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Code = code;
    }

    /// <summary>HTTP status the Data API answers with: 400, 404, 409, 412 or 500.</summary>
    public int StatusCode { get; }

    /// <summary>Dataverse-style error code (see <see cref="DataErrorCodes"/>).</summary>
    public string Code { get; }

    internal static DataRequestException BadRequest(string message, Exception? inner = null) => new(400, DataErrorCodes.InvalidQuery, message, inner);
}

/// <summary>Error codes in <c>{"error":{"code":...}}</c>, following Dataverse's where one exists.</summary>
public static class DataErrorCodes
{
    /// <summary>Malformed or unsupported query, unknown property, bad value (400).</summary>
    public const string InvalidQuery = "0x80060888";

    /// <summary>No row with that key, or no such entity set (404).</summary>
    public const string NotFound = "0x80040217";

    /// <summary>If-Match version did not match the row's version (412).</summary>
    public const string ConcurrencyMismatch = "0x80060882";

    /// <summary>A row with that key already exists (409 on insert, 412 for If-None-Match).</summary>
    public const string DuplicateRecord = "0x80040237";

    /// <summary>The database failed; details are withheld from the caller (500).</summary>
    public const string DatabaseError = "0x80040216";
}
