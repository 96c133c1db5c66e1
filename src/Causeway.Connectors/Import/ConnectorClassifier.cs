using System.Text.RegularExpressions;

namespace Causeway.Connectors;

/// <summary>
/// Classifies a connector for the network planner. First-party means both: the publisher is Microsoft (or no
/// publisher is declared, as in Microsoft's own packages such as Planner, AzureAD, Office 365 Users) and the
/// backend host is inside the Microsoft network (one of <see cref="PlatformHostSuffixes"/>); such traffic stays in
/// the datacenter. Everything else is third-party and reached over the public internet. When the host comes from a
/// connection parameter at call time, the literal part of the dynamichosturl template is used; if no host can be
/// known, the connector is third-party (it may point anywhere).
/// </summary>
public static partial class ConnectorClassifier
{
    /// <summary>Domains served from inside Microsoft's network; a host equal to one or ending in ".suffix" matches.</summary>
    public static readonly IReadOnlyList<string> PlatformHostSuffixes =
    [
        "microsoft.com", "microsoftonline.com", "azure.com", "azure.net", "windows.net", "dynamics.com",
        "office.com", "office.net", "office365.com", "outlook.com", "sharepoint.com", "live.com", "bing.com",
        "powerapps.com", "powerautomate.com", "powerplatform.com", "powerbi.com", "flow.microsoft.com",
        "azure-apim.net", "visualstudio.com", "azureedge.net", "cloudapp.net", "onmicrosoft.com",
    ];

    /// <summary>Classifies from the publisher, the swagger host and the policies that may replace the host.</summary>
    public static ConnectorClassification Classify(string? publisher, string? host, IEnumerable<PolicyTemplateInstance> policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var backend = BackendHost(host, policies, out var hostSource);
        var declared = !string.IsNullOrWhiteSpace(publisher);
        var isMicrosoft = !declared || MicrosoftPublisher().IsMatch(publisher!.Trim());
        if (backend is null)
        {
            return new ConnectorClassification(ConnectorNetworkKind.ThirdParty, null,
                "the backend host is chosen by the connection at call time, so it may be anywhere on the public internet");
        }

        var inside = IsPlatformHost(backend);
        if (isMicrosoft && inside)
        {
            return new ConnectorClassification(ConnectorNetworkKind.FirstParty, backend,
                $"{(declared ? "published by Microsoft" : "no publisher declared (Microsoft's own packages declare none)")} and its backend {backend} ({hostSource}) is inside the Microsoft network");
        }

        var why = !isMicrosoft
            ? $"published by '{publisher}', not Microsoft"
            : $"its backend {backend} ({hostSource}) is outside the Microsoft network";
        return new ConnectorClassification(ConnectorNetworkKind.ThirdParty, backend, $"{why}: reached over the public internet");
    }

    /// <summary>True when the host (port ignored) is one of, or under one of, <see cref="PlatformHostSuffixes"/>.</summary>
    public static bool IsPlatformHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var h = host.Split(':')[0].Trim().TrimEnd('.').ToLowerInvariant();
        return PlatformHostSuffixes.Any(s => h == s || h.EndsWith("." + s, StringComparison.Ordinal));
    }

    private static string? BackendHost(string? host, IEnumerable<PolicyTemplateInstance> policies, out string source)
    {
        // A dynamic host policy that applies to every operation decides the host; its literal tail is enough to
        // classify ("https://@connectionParameters('x').vault.azure.net" is inside Azure whatever x is).
        var dynamic = policies.FirstOrDefault(p =>
            p.TemplateId is PolicyTemplateIds.DynamicHostUrl or PolicyTemplateIds.DynamicSubdomain && p.OperationIds.Count == 0);
        if (dynamic?.Get("urlTemplate") is { } template)
        {
            source = "from the dynamichosturl template";
            var m = LiteralHost().Match(template);
            return m.Success ? m.Groups["host"].Value.TrimStart('.', '-').ToLowerInvariant() : null;
        }

        source = "swagger host";
        return string.IsNullOrWhiteSpace(host) ? null : host.Trim().ToLowerInvariant();
    }

    [GeneratedRegex(@"^\s*microsoft(\s+corporation|\s+corp\.?)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex MicrosoftPublisher();

    // The literal domain after the last expression in the authority part of a URL template.
    [GeneratedRegex(@"^(?:https?://)?(?:[^/]*\))?(?<host>\.?[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})(?::\d+)?(?:/|$)", RegexOptions.IgnoreCase)]
    private static partial Regex LiteralHost();
}
