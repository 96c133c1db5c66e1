using Microsoft.AspNetCore.Http;

namespace Causeway.Platform.Http;

/// <summary>RFC 9457 problem details with the wording every component uses.</summary>
public static class Problems
{
    /// <summary>What a 500 says: nothing of its cause, which is in the server's log.</summary>
    public const string UnexpectedDetail = "The server failed to process the request; the error is in the server's log.";

    /// <summary>500 for an unexpected exception, revealing nothing of it.</summary>
    public static IResult Unexpected() => Results.Problem(detail: UnexpectedDetail, statusCode: 500, title: "Internal Server Error");

    /// <summary>404 that names what was looked for; used for absent resources and for other tenants' resources alike.</summary>
    public static IResult NotFound(string what) => Results.Problem(detail: $"{what} was not found.", statusCode: 404, title: "Not Found");

    /// <summary>400 with one message per bad field.</summary>
    public static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: "The request is not valid.");

    /// <summary>400 with one message per bad field.</summary>
    public static IResult Invalid(IDictionary<string, string[]> errors) =>
        Results.ValidationProblem(errors, detail: string.Join(" ", errors.SelectMany(e => e.Value)), title: "The request is not valid.");

    /// <summary>409 with the reason.</summary>
    public static IResult Conflict(string detail) => Results.Problem(detail: detail, statusCode: 409, title: "Conflict");

    /// <summary>403 with the reason.</summary>
    public static IResult Forbidden(string detail) => Results.Problem(detail: detail, statusCode: 403, title: "Forbidden");
}
