package dev.appconversions

import java.io.IOException
import java.io.InputStream
import java.net.ConnectException
import java.net.HttpURLConnection
import java.net.NoRouteToHostException
import java.net.SocketException
import java.net.SocketTimeoutException
import java.net.URL
import java.net.UnknownHostException

/**
 * The default [HttpTransport]: the SDK's requests go through the platform's own
 * `HttpURLConnection`, so the system proxy, Android's Network Security Config (user and MDM
 * CAs, certificate pinning, cleartext rules) and the per-app data saver apply as they do to the
 * app's own traffic. No dependency beyond the JDK or Android.
 *
 * Called by the SDK on its upload thread only, one request at a time. It follows no redirect
 * (the SDK reads a 3xx as an answer), treats no status as an error, and reads at most 2 MiB
 * and one byte of an answer (the SDK reads no more).
 *
 * @param configure called on every connection before it is used, to add what the app needs
 *   (a custom `SSLSocketFactory` on an `HttpsURLConnection`, say).
 */
class HttpUrlConnectionTransport @JvmOverloads constructor(
    private val configure: (HttpURLConnection) -> Unit = {},
) : HttpTransport {

    /** Sends [request] (a `POST` of events or a `GET` of remote settings) and returns the answer, whatever its status. */
    override fun send(request: HttpRequest): HttpResponse {
        val timeout = request.timeoutMs.toLong().coerceIn(1L, Int.MAX_VALUE.toLong()).toInt()
        try {
            val connection = URL(request.url).openConnection() as HttpURLConnection
            try {
                val post = request.method != "GET"
                connection.requestMethod = if (post) "POST" else "GET"
                connection.instanceFollowRedirects = false
                connection.connectTimeout = timeout
                connection.readTimeout = timeout
                connection.doOutput = post
                connection.useCaches = false
                if (post) connection.setFixedLengthStreamingMode(request.body.size)
                for (header in request.headers) {
                    connection.setRequestProperty(header.name, header.value)
                }
                configure(connection)
                if (post) connection.outputStream.use { it.write(request.body) }
                val status = connection.responseCode
                val headers = connection.headerFields.orEmpty().flatMap { (name, values) ->
                    if (name == null) emptyList() else values.map { HttpHeader(name, it) }
                }
                val stream = if (status >= 400) connection.errorStream else connection.inputStream
                val body = stream?.use { readCapped(it) } ?: ByteArray(0)
                return HttpResponse(status.coerceIn(0, 65535).toUShort(), headers, body)
            } finally {
                connection.disconnect()
            }
        } catch (e: SocketTimeoutException) {
            throw TransportException.Timeout("no answer within $timeout ms")
        } catch (e: UnknownHostException) {
            throw TransportException.Network("host not found")
        } catch (e: ConnectException) {
            throw TransportException.Network("connection failed: ${e.message}")
        } catch (e: NoRouteToHostException) {
            throw TransportException.Network("no route to host")
        } catch (e: SocketException) {
            throw TransportException.Network("connection broken: ${e.message}")
        } catch (e: IOException) {
            throw TransportException.Other("${e.javaClass.simpleName}: ${e.message}")
        }
    }

    private fun readCapped(stream: InputStream): ByteArray {
        val out = java.io.ByteArrayOutputStream()
        val buffer = ByteArray(16 * 1024)
        while (out.size() <= MAX_ANSWER_BYTES) {
            val read = stream.read(buffer)
            if (read < 0) break
            out.write(buffer, 0, read)
        }
        return out.toByteArray()
    }

    private companion object {
        /** The SDK reads at most 2 MiB of an answer; one byte more tells it the cap was passed. */
        const val MAX_ANSWER_BYTES = 2 * 1024 * 1024
    }
}
